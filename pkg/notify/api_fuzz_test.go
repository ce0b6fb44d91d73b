package notify

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/silence"
)

// FuzzPostAlertsBody feeds POST /api/v2/alerts bodies to the API's decoder
// and validation, seeded with what amtool and Prometheus send. A body is
// either refused with 400 or 413 and a message, or decoded into at most
// maxAlerts alerts; an alert that validates encodes back to JSON that
// decodes to the same alert.
func FuzzPostAlertsBody(f *testing.F) {
	for _, s := range []string{
		`[{"labels":{"alertname":"privacy.phone","severity":"major","unit":"fz-gov"},"annotations":{"summary":"手机号码"},"startsAt":"2026-11-26T08:00:00Z","generatorURL":"http://x"}]`,
		`[{"labels":{"alertname":"a"},"endsAt":"2026-11-26T08:00:00Z","startsAt":"2026-11-26T09:00:00Z"}]`,
		`[{"labels":{"alertname":"a","0bad":"x"}}]`,
		`[{"labels":{}}]`,
		`[]`,
		`{}`,
		`[{"labels":{"alertname":"a"}},{"labels":{"alertname":"b"}},{"labels":{"alertname":"c"}}]`,
		manyAlerts(3),
	} {
		f.Add([]byte(s))
	}
	api := &API{maxBody: 4 << 10, maxAlerts: 2}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/api/v2/alerts", bytes.NewReader(body))
		in, ok := api.readPostables(w, r)
		if !ok {
			if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge || w.Body.Len() == 0 {
				t.Fatalf("refused with %d %q, want 400 or 413 with a message", w.Code, w.Body)
			}
			return
		}
		if w.Body.Len() != 0 || len(in) > api.maxAlerts || int64(len(body)) > api.maxBody {
			t.Fatalf("took %d alerts from %d bytes and wrote %q", len(in), len(body), w.Body)
		}
		for i, p := range in {
			if validatePostable(&p) != nil {
				continue
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("alerts[%d] %+v does not encode: %v", i, p, err)
			}
			var again postableAlert
			if err := json.Unmarshal(b, &again); err != nil || !samePostable(p, again) {
				t.Fatalf("alerts[%d]: %+v encodes as %s, which decodes to %+v (%v)", i, p, b, again, err)
			}
			if err := validatePostable(&again); err != nil {
				t.Fatalf("alerts[%d]: valid, but not once encoded again: %v", i, err)
			}
		}
	})
}

func samePostable(a, b postableAlert) bool {
	return reflect.DeepEqual(a.Labels, b.Labels) && reflect.DeepEqual(a.Annotations, b.Annotations) &&
		a.StartsAt.Equal(b.StartsAt) && a.EndsAt.Equal(b.EndsAt) && a.GeneratorURL == b.GeneratorURL
}

// FuzzPostSilenceBody decodes POST /api/v2/silences bodies as the API does
// and validates them, seeded with amtool's. A silence that validates
// encodes back to JSON that decodes to a silence that validates and mutes
// the same label sets.
func FuzzPostSilenceBody(f *testing.F) {
	for _, s := range []string{
		`{"matchers":[{"name":"alertname","value":"account.stale","isRegex":false,"isEqual":true}],"startsAt":"2026-11-26T08:00:00Z","endsAt":"2026-11-26T10:00:00Z","createdBy":"值班员","comment":"维护"}`,
		`{"id":"abc","matchers":[{"name":"unit","value":"fz-.*","isRegex":true}],"startsAt":"2026-11-26T08:00:00Z","endsAt":"2026-11-27T08:00:00Z","createdBy":"a","comment":"b"}`,
		`{"matchers":[{"name":"x","value":"","isEqual":false}],"startsAt":"2026-11-26T08:00:00Z","endsAt":"2026-11-26T09:00:00Z","createdBy":"a","comment":"b"}`,
		`{"matchers":[{"name":"x","value":"(","isRegex":true}]}`,
		`{"matchers":[]}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		var s silence.Silence
		if err := json.NewDecoder(http.MaxBytesReader(w, io.NopCloser(bytes.NewReader(body)), maxBody)).Decode(&s); err != nil {
			return
		}
		if s.Validate() != nil {
			return
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", s, err)
		}
		var again silence.Silence
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("%s does not decode: %v", b, err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("valid, but not once encoded again as %s: %v", b, err)
		}
		if !reflect.DeepEqual(s.Matchers, again.Matchers) || !s.StartsAt.Equal(again.StartsAt) || !s.EndsAt.Equal(again.EndsAt) {
			t.Fatalf("%+v encodes as %s, which decodes to %+v", s, b, again)
		}
		at := s.StartsAt
		set, set2 := silence.ActiveAt([]silence.Silence{s}, at), silence.ActiveAt([]silence.Silence{again}, at)
		for _, ls := range []model.LabelSet{{}, {"alertname": "account.stale"}, {"unit": "fz-gov", "x": ""}} {
			if a, b := set.Muting(ls), set2.Muting(ls); strings.Join(a, ",") != strings.Join(b, ",") {
				t.Fatalf("%v: muted by %v, and by %v once encoded again", ls, a, b)
			}
		}
	})
}

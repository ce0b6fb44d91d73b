package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/ack"
)

// apiNow is the notifier's time in the API tests.
var apiNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// newTestAPI is the API over n, verifying links with signer and guarded
// by auth (nil: open).
func newTestAPI(t *testing.T, n *Notifier, signer *ack.Signer, auth *Auth) *API {
	t.Helper()
	api, err := NewAPI(n, APIOptions{Clock: n.clock, Log: n.log, Signer: signer, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

type apiFixture struct {
	*fixture
	srv *httptest.Server
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	clock := clockwork.NewFakeClockAt(apiNow)
	f := newFixture(t, fixtureOptions{
		store:          embeddedStores.realTime(t),
		clock:          clock,
		resolveTimeout: 10 * time.Minute,
	})
	mux := http.NewServeMux()
	newTestAPI(t, f.n.Notifier, nil, nil).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiFixture{fixture: f, srv: srv}
}

func (f *apiFixture) post(t *testing.T, body string) (int, string) {
	t.Helper()
	return postAlerts(t, f.srv.URL, body)
}

// postAlerts posts body to /api/v2/alerts of the server at base and
// returns the status and the answer.
func postAlerts(t *testing.T, base, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /api/v2/alerts: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get decodes the JSON answer of GET path into v and returns the status.
func (f *apiFixture) get(t *testing.T, path string, v any) int {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp.StatusCode
}

func (f *apiFixture) mustPost(t *testing.T, body string) {
	t.Helper()
	if code, msg := f.post(t, body); code != http.StatusOK {
		t.Fatalf("POST %s: got %d %s, want 200", body, code, msg)
	}
}

// Alerts as Prometheus sends them (startsAt, endsAt a few evaluation
// intervals ahead, generatorURL) and as amtool sends them (labels and
// annotations only).
const (
	promPhone = `[{"labels": {"alertname": "privacy.phone", "severity": "major", "unit": "fz-gov", "account_id": "fz-wechat"},
  "annotations": {"summary": "公开发布手机号码", "url": "https://mp.weixin.qq.com/s/abc"},
  "startsAt": "2026-11-26T09:55:00Z", "endsAt": "2026-11-26T10:04:00Z",
  "generatorURL": "http://prometheus.example/graph?g0.expr=x"}]`
	amtoolStale = `[{"labels": {"alertname": "account.stale", "severity": "critical", "unit": "xm-gov", "account_id": "xm-weibo"},
  "annotations": {"summary": "14 天未更新"}}]`
	promTypo = `[{"labels": {"alertname": "wording.typo", "severity": "minor", "unit": "fzcity-gov", "account_id": "fzcity-douyin"},
  "annotations": {"summary": "错别字"}, "startsAt": "2026-11-26T09:00:00Z"}]`
	promIDFiring = `[{"labels": {"alertname": "privacy.id_number", "severity": "major", "unit": "np-gov", "account_id": "np-toutiao"},
  "annotations": {"summary": "身份证号"}, "startsAt": "2026-11-26T08:00:00Z", "endsAt": "2026-11-26T10:03:00Z"}]`
	promIDResolved = `[{"labels": {"alertname": "privacy.id_number", "severity": "major", "unit": "np-gov", "account_id": "np-toutiao"},
  "annotations": {"summary": "身份证号"}, "startsAt": "2026-11-26T08:00:00Z", "endsAt": "2026-11-26T09:30:00Z"}]`
)

// seed posts four alerts and resolves one: phone (major), stale
// (critical), typo (minor) fire; id_number is resolved.
func (f *apiFixture) seed(t *testing.T) {
	t.Helper()
	for _, body := range []string{promPhone, amtoolStale, promTypo, promIDFiring, promIDResolved} {
		f.mustPost(t, body)
	}
}

type v1Answer struct {
	Status string      `json:"status"`
	Data   []alertView `json:"data"`
}

func namesV1(a v1Answer) []string {
	var out []string
	for _, v := range a.Data {
		out = append(out, v.Labels["alertname"]+"/"+v.Status)
	}
	return out
}

func TestAPIListV1(t *testing.T) {
	f := newAPIFixture(t)
	f.seed(t)
	tests := []struct {
		name, path string
		want       []string // alertname/status, most severe first
	}{
		{"active only", "/api/v1/alerts", []string{"account.stale/firing", "privacy.phone/firing", "wording.typo/firing"}},
		{"all includes resolved", "/api/v1/alerts?all=1", []string{"account.stale/firing", "privacy.phone/firing", "privacy.id_number/resolved", "wording.typo/firing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got v1Answer
			if code := f.get(t, tc.path, &got); code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", code)
			}
			if g := namesV1(got); !slices.Equal(g, tc.want) {
				t.Fatalf("alerts: got %q, want %q", g, tc.want)
			}
		})
	}

	var got v1Answer
	f.get(t, "/api/v1/alerts", &got)
	phone := got.Data[1]
	if phone.Labels["account_id"] != "fz-wechat" || phone.Annotations["summary"] != "公开发布手机号码" {
		t.Errorf("phone alert: got labels %v annotations %v, want account_id fz-wechat and its summary", phone.Labels, phone.Annotations)
	}
	if got, want := phone.Receivers, []string{"oncall"}; !slices.Equal(got, want) {
		t.Errorf("receivers: got %q, want %q", got, want)
	}
	if got, want := phone.Incident, 1; got != want {
		t.Errorf("incident: got %d, want %d", got, want)
	}
	if len(phone.Timeline) != 2 || phone.Timeline[0].What != StatusFiring || phone.Timeline[1].What != EventNotified || phone.Timeline[1].Detail != "oncall firing" {
		t.Errorf("timeline: got %+v, want firing, then notified oncall", phone.Timeline)
	}
}

func TestAPIPostV2FillsTimes(t *testing.T) {
	f := newAPIFixture(t)
	f.mustPost(t, promPhone)
	f.mustPost(t, amtoolStale)
	recs, err := f.n.Alerts(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Record{}
	for _, r := range recs {
		byName[r.Alert.Name()] = r
	}
	tests := []struct {
		name                     string
		alertname                string
		wantStartsAt, wantEndsAt time.Time
		wantGeneratorURL         string
	}{
		{"Prometheus: times kept", "privacy.phone", time.Date(2026, 11, 26, 9, 55, 0, 0, time.UTC), time.Date(2026, 11, 26, 10, 4, 0, 0, time.UTC), "http://prometheus.example/graph?g0.expr=x"},
		{"amtool: startsAt now, endsAt now+ResolveTimeout", "account.stale", apiNow, apiNow.Add(10 * time.Minute), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := byName[tc.alertname]
			if !ok {
				t.Fatalf("no record for %s among %d", tc.alertname, len(recs))
			}
			if !r.Alert.StartsAt.Equal(tc.wantStartsAt) {
				t.Errorf("startsAt: got %s, want %s", r.Alert.StartsAt, tc.wantStartsAt)
			}
			if !r.Alert.EndsAt.Equal(tc.wantEndsAt) {
				t.Errorf("endsAt: got %s, want %s", r.Alert.EndsAt, tc.wantEndsAt)
			}
			if r.Alert.GeneratorURL != tc.wantGeneratorURL {
				t.Errorf("generatorURL: got %q, want %q", r.Alert.GeneratorURL, tc.wantGeneratorURL)
			}
		})
	}
	// Posting creates and notifies: phone (major, fz-gov) goes to oncall,
	// stale (critical, xm-gov) to default.
	if got, want := len(f.delivered()), 2; got != want {
		t.Errorf("deliveries: got %q, want %d", f.delivered(), want)
	}
}

func TestAPIPostV2Rejects(t *testing.T) {
	f := newAPIFixture(t)
	tests := []struct {
		name string
		body string
		want []string // in the error message
	}{
		{"not an array", `{"labels": {"alertname": "x"}}`, []string{"JSON array"}},
		{"not JSON", `alertname=x`, []string{"JSON array"}},
		{"no alertname", `[{"labels": {"alertname": "ok"}}, {"labels": {"severity": "major"}}]`, []string{"alerts[1]", "no alertname"}},
		{"no labels", `[{"labels": {}}]`, []string{"alerts[0]", "no labels"}},
		{"invalid label name", `[{"labels": {"alertname": "x", "1unit": "fz"}}]`, []string{"alerts[0]", `invalid label name "1unit"`}},
		{"empty label value", `[{"labels": {"alertname": "x", "unit": ""}}]`, []string{"alerts[0]", `label "unit" is empty`}},
		{"endsAt before startsAt", `[{"labels": {"alertname": "x"}}, {"labels": {"alertname": "y"}}, {"labels": {"alertname": "x"}, "startsAt": "2026-11-26T10:00:00Z", "endsAt": "2026-11-26T09:00:00Z"}]`,
			[]string{"alerts[2]", "endsAt 2026-11-26T09:00:00Z is before startsAt 2026-11-26T10:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.post(t, tc.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status: got %d (%s), want 400", code, body)
			}
			var e struct{ Status, Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("error body %q: %v", body, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(e.Error, w) {
					t.Errorf("error: got %q, want it to contain %q", e.Error, w)
				}
			}
		})
	}
	// A rejected batch is rejected whole: none of its valid alerts is kept.
	var got v1Answer
	f.get(t, "/api/v1/alerts?all=1", &got)
	if len(got.Data) != 0 {
		t.Errorf("alerts after rejected posts: got %q, want none", namesV1(got))
	}
	if d := f.delivered(); len(d) != 0 {
		t.Errorf("deliveries after rejected posts: got %q, want none", d)
	}
}

func TestAPIListV2(t *testing.T) {
	f := newAPIFixture(t)
	f.seed(t)

	// The shape amtool reads: exactly Alertmanager's gettableAlert fields.
	var raw []map[string]any
	if code := f.get(t, "/api/v2/alerts", &raw); code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", code)
	}
	if len(raw) != 3 {
		t.Fatalf("alerts: got %d, want 3 active", len(raw))
	}
	var keys []string
	for k := range raw[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "receivers", "startsAt", "status", "updatedAt"}; !slices.Equal(keys, want) {
		t.Errorf("fields: got %q, want %q", keys, want)
	}
	var typed []gettableAlert
	f.get(t, "/api/v2/alerts?"+url.Values{"filter": {`alertname="privacy.phone"`}}.Encode(), &typed)
	if len(typed) != 1 {
		t.Fatalf("filtered alerts: got %d, want 1", len(typed))
	}
	phone := typed[0]
	checks := []struct{ what, got, want string }{
		{"fingerprint", phone.Fingerprint, phone.Labels.Fingerprint()},
		{"annotation summary", phone.Annotations["summary"], "公开发布手机号码"},
		{"startsAt", phone.StartsAt.Format(time.RFC3339), "2026-11-26T09:55:00Z"},
		{"endsAt", phone.EndsAt.Format(time.RFC3339), "2026-11-26T10:04:00Z"},
		{"updatedAt", phone.UpdatedAt.Format(time.RFC3339), apiNow.Format(time.RFC3339)},
		{"state", phone.Status.State, "active"},
		{"receivers", receiverNames(phone.Receivers), "oncall"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if phone.Status.SilencedBy == nil || phone.Status.InhibitedBy == nil {
		t.Errorf("silencedBy/inhibitedBy: got %v/%v, want empty arrays, not null", phone.Status.SilencedBy, phone.Status.InhibitedBy)
	}

	tests := []struct {
		name     string
		filters  []string
		wantCode int
		want     []string // alertnames, most severe first
	}{
		{"no filter", nil, 200, []string{"account.stale", "privacy.phone", "wording.typo"}},
		{"equal", []string{`alertname="privacy.phone"`}, 200, []string{"privacy.phone"}},
		{"equal in braces", []string{`{alertname="privacy.phone"}`}, 200, []string{"privacy.phone"}},
		{"not equal", []string{`severity!="minor"`}, 200, []string{"account.stale", "privacy.phone"}},
		{"regex", []string{`unit=~"fz.*"`}, 200, []string{"privacy.phone", "wording.typo"}},
		{"regex is anchored", []string{`unit=~"fz"`}, 200, nil},
		{"negative regex", []string{`unit!~"fz.*"`}, 200, []string{"account.stale"}},
		{"filters combine", []string{`unit=~"fz.*"`, `severity="minor"`}, 200, []string{"wording.typo"}},
		{"resolved alerts are not listed", []string{`alertname="privacy.id_number"`}, 200, nil},
		{"bad matcher", []string{`unit`}, 400, nil},
		{"bad regex", []string{`unit=~"("`}, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/v2/alerts"
			if len(tc.filters) > 0 {
				path += "?" + url.Values{"filter": tc.filters}.Encode()
			}
			if tc.wantCode != http.StatusOK {
				var e struct{ Error string }
				if code := f.get(t, path, &e); code != tc.wantCode || !strings.Contains(e.Error, "filter") {
					t.Fatalf("got %d %q, want %d naming the filter", code, e.Error, tc.wantCode)
				}
				return
			}
			var got []gettableAlert
			if code := f.get(t, path, &got); code != tc.wantCode {
				t.Fatalf("status: got %d, want %d", code, tc.wantCode)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Labels["alertname"])
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("alerts: got %q, want %q", names, tc.want)
			}
		})
	}
}

func receiverNames(rs []receiverRef) string {
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

func TestActiveAlertsMetric(t *testing.T) {
	f := newAPIFixture(t)
	f.seed(t)
	f.mustPost(t, strings.Replace(promTypo, "fzcity-douyin", "fzcity-weibo", 1)) // a second typo alert

	tests := []struct {
		category, severity string
		want               float64
	}{
		{"privacy.phone", "major", 1},
		{"account.stale", "critical", 1},
		{"wording.typo", "minor", 2},
		{"privacy.id_number", "major", 0}, // resolved
	}
	for _, tc := range tests {
		got := metricValue(t, f.n.reg, "govwatch_notifier_active_alerts", map[string]string{"category": tc.category, "severity": tc.severity})
		if got != tc.want {
			t.Errorf("active alerts{%s,%s}: got %v, want %v", tc.category, tc.severity, got, tc.want)
		}
	}

	// The API alert without endsAt expires; the gauge follows the store.
	f.clock.Advance(11 * time.Minute)
	if err := f.n.Expire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, f.n.reg, "govwatch_notifier_active_alerts", map[string]string{"category": "account.stale", "severity": "critical"}); got != 0 {
		t.Errorf("active alerts{account.stale} after expiry: got %v, want 0", got)
	}
}

package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/bus"
)

// manyAlerts is a POST /api/v2/alerts body of n distinct alerts, as
// amtool sends them (no times).
func manyAlerts(n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"load.test","unit":"fz-gov","n":"%d"}}`, i)
	}
	b.WriteString("]")
	return b.String()
}

// busAPI is an API over a notifier that takes posted alerts through the
// bus, with the given limits.
type busAPI struct {
	*fixture
	bus *bus.Bus
	srv *httptest.Server
}

func newBusAPI(t *testing.T, o APIOptions) *busAPI {
	t.Helper()
	b := testBus(t)
	clock := clockwork.NewFakeClockAt(apiNow)
	f := newFixture(t, fixtureOptions{store: embeddedStores.realTime(t), clock: clock, bus: b, resolveTimeout: 10 * time.Minute})
	o.Clock, o.Log = clock, f.n.log
	_, srv := serveAPI(t, f.n.Notifier, o)
	return &busAPI{fixture: f, bus: b, srv: srv}
}

func (f *busAPI) post(t *testing.T, body string) (int, string) {
	t.Helper()
	code, answer := postAlerts(t, f.srv.URL, body)
	var e struct{ Error string }
	_ = json.Unmarshal([]byte(answer), &e)
	return code, e.Error
}

// TestAPIPostV2Bounds: a request over the body or count limit is refused
// whole with 413 naming the limit, and nothing of it is kept.
func TestAPIPostV2Bounds(t *testing.T) {
	tests := []struct {
		name string
		o    APIOptions
		body string
		want string
	}{
		{"17,000 alerts over the default count", APIOptions{MaxBody: 4 << 20}, manyAlerts(17000), "more than 1000 alerts in one request (notifier.api.max_alerts)"},
		{"17,000 alerts over the default 1 MiB", APIOptions{MaxAlerts: 20000}, manyAlerts(17000), "body larger than 1048576 bytes (notifier.api.max_body)"},
		{"one alert over a small count", APIOptions{MaxAlerts: 1}, manyAlerts(2), "more than 1 alerts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBusAPI(t, tc.o)
			code, msg := f.post(t, tc.body)
			if code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, tc.want) {
				t.Fatalf("got %d %q, want 413 with %q", code, msg, tc.want)
			}
			info, err := f.bus.JetStream().Stream(t.Context(), f.bus.Stream(bus.KindAlert))
			if err != nil {
				t.Fatal(err)
			}
			if n := info.CachedInfo().State.Msgs; n != 0 {
				t.Errorf("alert stream holds %d messages after a refused request, want 0", n)
			}
		})
	}
}

// TestAPIPostV2ManyAlertsAllKept: 17,000 alerts in one request within
// raised limits are answered once every one is on the durable alert stream,
// before any is processed; the consumer then makes a record of each with
// its own stamped times. The consumer's pace is not this test's: with one
// worker it drains 17,000 in minutes, so processing is shown on the first
// 500 of a second, equally taken request.
func TestAPIPostV2ManyAlertsAllKept(t *testing.T) {
	const n, processed = 17000, 500
	f := newBusAPI(t, APIOptions{MaxBody: 4 << 20, MaxAlerts: 20000})
	if code, msg := f.post(t, manyAlerts(n)); code != http.StatusOK {
		t.Fatalf("POST: got %d %q, want 200", code, msg)
	}
	info, err := f.bus.JetStream().Stream(t.Context(), f.bus.Stream(bus.KindAlert))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.CachedInfo().State.Msgs; got != n {
		t.Fatalf("alert stream holds %d messages, want %d", got, n)
	}
	if recs, _ := f.n.Alerts(t.Context(), false); len(recs) != 0 {
		t.Fatalf("records before the consumer ran: %d, want 0 (the request must not deliver)", len(recs))
	}

	g := newBusAPI(t, APIOptions{})
	if code, msg := g.post(t, manyAlerts(processed)); code != http.StatusOK {
		t.Fatalf("POST: got %d %q, want 200", code, msg)
	}
	ctx := testCtx(t)
	stop := runInBackground(t, ctx, g.n.Notifier)
	defer stop()
	deadline := time.Now().Add(25 * time.Second)
	for {
		recs, err := g.n.Alerts(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == processed {
			for _, r := range recs {
				if !r.Alert.StartsAt.Equal(apiNow) || !r.Alert.EndsAt.Equal(apiNow.Add(10*time.Minute)) {
					t.Fatalf("alert %s: startsAt %s endsAt %s, want %s and 10m later", r.Fingerprint, r.Alert.StartsAt, r.Alert.EndsAt, apiNow)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d posted alerts have a record", len(recs), processed)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAPIOversizedBodies: a silence, a duty action or an allow entry over
// its limit is refused with 413 naming the limit, as posted alerts are,
// not with a 400 that reads as malformed JSON.
func TestAPIOversizedBodies(t *testing.T) {
	f := newEscAPI(t, nil)
	pad := strings.Repeat("a", 2<<20)
	for _, tc := range []struct{ path, body, want string }{
		{"/api/v2/silences", `{"matchers": [{"name": "alertname", "value": "` + pad + `"}]}`, "body larger than 1048576 bytes: it must be a silence as JSON"},
		{"/api/v1/alerts/0123456789abcdef/ack", `{"by": "x", "note": "` + pad + `"}`, "body larger than 65536 bytes"},
		{"/api/v1/alerts/0123456789abcdef/resolve", `{"by": "x", "note": "` + pad + `"}`, "body larger than 65536 bytes"},
		{"/api/v1/findings/allow", `{"fingerprint": "0123456789abcdef", "reason": "` + pad + `"}`, "body larger than 65536 bytes"},
	} {
		code, body := f.do(t, "POST", tc.path, "", "application/json", tc.body)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s with 2 MiB: %d %s, want 413 saying %q", tc.path, code, body, tc.want)
		}
	}
	// Malformed JSON within the limit is still 400.
	if code, body := f.do(t, "POST", "/api/v2/silences", "", "application/json", `{"matchers": [`); code != http.StatusBadRequest {
		t.Errorf("a truncated silence: %d %s, want 400", code, body)
	}
}

// TestAPIFilterAnswersAreShort: a filter= of 900 KB is refused with a
// message that names it clipped, not with the filter sent back twice.
func TestAPIFilterAnswersAreShort(t *testing.T) {
	f := newEscAPI(t, nil)
	filter := url.QueryEscape(`alertname=~"` + strings.Repeat("a", 900<<10) + `"`)
	for _, path := range []string{"/api/v2/alerts", "/api/v2/silences"} {
		code, body := f.do(t, "GET", path+"?filter="+filter, "", "", "")
		if code != http.StatusBadRequest || !strings.Contains(body, "at most 1024") || len(body) > 1<<10 {
			t.Errorf("GET %s with a 900 KB filter: %d, %d bytes: %.300s", path, code, len(body), body)
		}
	}
}

// cutOff is a body whose first bytes arrive and whose rest the server's
// read timeout cuts off, as a slow client's does.
func cutOff(first string) io.Reader {
	return io.MultiReader(strings.NewReader(first), iotest.ErrReader(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}))
}

// TestAPIBodyCutOffGets408: a body the read timeout cut off is answered
// 408, not as malformed or too large.
func TestAPIBodyCutOffGets408(t *testing.T) {
	f := newEscAPI(t, nil)
	for path, first := range map[string]string{
		"/api/v2/alerts":                          `[{"labels": {"alertname": "x"`,
		"/api/v2/silences":                        `{"matchers": [`,
		"/api/v1/alerts/0123456789abcdef/ack":     `{"by": "x`,
		"/api/v1/findings/allow":                  `{"fingerprint": "`,
		"/api/v1/alerts/0123456789abcdef/resolve": `{`,
	} {
		req := httptest.NewRequest("POST", path, cutOff(first))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		f.srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), "http.read_timeout") {
			t.Errorf("POST %s cut off: %d %s, want 408 naming http.read_timeout", path, rec.Code, rec.Body)
		}
	}
}

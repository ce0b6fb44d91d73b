package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
)

var testNow = time.Date(2026, 11, 26, 8, 5, 0, 0, time.UTC)

func notification(alerts int) *channel.Notification {
	n := &channel.Notification{
		Receiver:          "ops",
		GroupKey:          `{}:{alertname="privacy.phone"}`,
		Status:            channel.StatusFiring,
		GroupLabels:       map[string]string{"alertname": "privacy.phone"},
		CommonLabels:      map[string]string{"alertname": "privacy.phone", "severity": "major"},
		CommonAnnotations: nil, // sent as {}
		ExternalURL:       "https://govwatch.example.gov.cn",
	}
	for i := range alerts {
		a := channel.AlertState{
			Alert: model.Alert{
				Labels: model.LabelSet{
					"alertname": "privacy.phone", "severity": "major",
					"account_id": "fz-wjw-" + string(rune('a'+i)),
				},
				Annotations: map[string]string{
					"summary": "文章正文出现未打码的手机号码",
					"ack_url": "https://govwatch.example.gov.cn/ack/" + string(rune('a'+i)),
				},
				StartsAt:     time.Date(2026, 11, 26, 8, 3, 11, 0, time.UTC),
				GeneratorURL: "https://govwatch.example.gov.cn/alerts",
			},
			Status: channel.StatusFiring,
		}
		a.Fingerprint = a.Labels.Fingerprint()
		n.Alerts = append(n.Alerts, a)
	}
	return n
}

// received is one request as a test receiver saw it.
type received struct {
	method, contentType, signature, timestamp string
	body                                      []byte
}

func receiver(t *testing.T, status int, answer string) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.Header.Get("Content-Type"), r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), body}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestNotifyPayload(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, "ok")
	w, err := New(Config{URL: srv.URL + "/hook", MaxAlerts: 2}, Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := w.Notify(context.Background(), notification(3)); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	r := <-got
	if r.method != http.MethodPost || r.contentType != "application/json" {
		t.Errorf("got %s with Content-Type %q, want POST application/json", r.method, r.contentType)
	}
	if r.signature != "" || r.timestamp != "" {
		t.Errorf("got signature %q timestamp %q without a secret, want none", r.signature, r.timestamp)
	}

	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	top := []struct {
		field string
		want  any
	}{
		{"version", "4"},
		{"groupKey", `{}:{alertname="privacy.phone"}`},
		{"truncatedAlerts", float64(1)},
		{"status", "firing"},
		{"receiver", "ops"},
		{"groupLabels", map[string]any{"alertname": "privacy.phone"}},
		{"commonLabels", map[string]any{"alertname": "privacy.phone", "severity": "major"}},
		{"commonAnnotations", map[string]any{}},
		{"externalURL", "https://govwatch.example.gov.cn"},
	}
	for _, f := range top {
		if got, err := json.Marshal(m[f.field]); err != nil || string(got) != mustJSON(t, f.want) {
			t.Errorf("%s: got %s, want %s", f.field, got, mustJSON(t, f.want))
		}
	}
	if len(m) != len(top)+1 {
		t.Errorf("got %d top-level fields, want %d: %s", len(m), len(top)+1, r.body)
	}
	alerts, _ := m["alerts"].([]any)
	if len(alerts) != 2 {
		t.Fatalf("got %d alerts, want 2 (max_alerts)", len(alerts))
	}
	a, _ := alerts[1].(map[string]any)
	fields := []struct {
		field string
		want  any
	}{
		{"status", "firing"},
		{"labels", map[string]any{"alertname": "privacy.phone", "severity": "major", "account_id": "fz-wjw-b"}},
		{"annotations", map[string]any{"summary": "文章正文出现未打码的手机号码", "ack_url": "https://govwatch.example.gov.cn/ack/b"}},
		{"startsAt", "2026-11-26T08:03:11Z"},
		{"endsAt", "0001-01-01T00:00:00Z"},
		{"generatorURL", "https://govwatch.example.gov.cn/alerts"},
		{"fingerprint", notification(2).Alerts[1].Fingerprint},
	}
	for _, f := range fields {
		if got := mustJSON(t, a[f.field]); got != mustJSON(t, f.want) {
			t.Errorf("alerts[1].%s: got %s, want %s", f.field, got, mustJSON(t, f.want))
		}
	}
	if len(a) != len(fields) {
		t.Errorf("got %d alert fields, want %d: %v", len(a), len(fields), a)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNotifySignature(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent, "")
	secret := []byte("s3cr3t-robot-key")
	w, err := New(Config{URL: srv.URL}, Options{Secret: secret, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := w.Notify(context.Background(), notification(1)); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	r := <-got
	if want := strconv.FormatInt(testNow.Unix(), 10); r.timestamp != want {
		t.Errorf("timestamp: got %q, want %q", r.timestamp, want)
	}
	if err := Verify(secret, r.timestamp, r.signature, r.body, testNow, 5*time.Minute); err != nil {
		t.Errorf("Verify of the request sent: %v", err)
	}
	// Known answer (printf '1795680300.{"version":"4"}' | openssl dgst
	// -sha256 -hmac key), so the scheme cannot drift with the code.
	if got, want := Sign([]byte("key"), "1795680300", []byte(`{"version":"4"}`)), "v1=836d7a36071a87515d6a808ddad2a8762be98fb4b84a934bbba7605ffd2a85ee"; got != want {
		t.Errorf("Sign: got %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cr3t-robot-key"), []byte(`{"version":"4"}`)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	sig := Sign(secret, ts, body)
	later := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	tests := []struct {
		name           string
		timestamp, sig string
		body           []byte
		at             time.Time
		wantErr        error
	}{
		{"fresh", ts, sig, body, testNow.Add(4 * time.Minute), nil},
		{"replayed after the skew", ts, sig, body, testNow.Add(6 * time.Minute), ErrStale},
		{"from the future", ts, sig, body, testNow.Add(-6 * time.Minute), ErrStale},
		{"timestamp moved forward, signature kept", later, sig, body, testNow.Add(time.Hour), ErrBadSignature},
		{"body changed", ts, sig, []byte(`{"version":"5"}`), testNow, ErrBadSignature},
		{"old body-only scheme", ts, "sha256=" + sig[len("v1="):], body, testNow, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(secret, tc.timestamp, tc.sig, tc.body, tc.at, 5*time.Minute); !errors.Is(err, tc.wantErr) {
				t.Errorf("Verify: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestNotifyClassification(t *testing.T) {
	long := strings.Repeat("错", 300) // 900 bytes
	tests := []struct {
		name      string
		status    int
		answer    string
		wantErr   bool
		retryable bool
	}{
		{"200", http.StatusOK, `{"ok":true}`, false, false},
		{"202", http.StatusAccepted, "", false, false},
		{"204", http.StatusNoContent, "", false, false},
		{"400", http.StatusBadRequest, "bad payload", true, false},
		{"401", http.StatusUnauthorized, "bad signature", true, false},
		{"404", http.StatusNotFound, "no such hook", true, false},
		{"302", http.StatusFound, "moved", true, false},
		{"429", http.StatusTooManyRequests, "slow down", true, true},
		{"500", http.StatusInternalServerError, long, true, true},
		{"502", http.StatusBadGateway, "", true, true},
		{"503", http.StatusServiceUnavailable, "busy", true, true},
	}
	secret := []byte("never-in-errors")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			w, err := New(Config{URL: srv.URL + "/hook?key=tok3n"}, Options{Secret: secret})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = w.Notify(context.Background(), notification(1))
			channeltest.Outcome(t, err, tt.wantErr, tt.retryable, strconv.Itoa(tt.status), "never-in-errors", "tok3n")
			if err != nil && tt.answer == long && strings.Count(err.Error(), "错") != 66 { // 200 bytes = 66 runes + 2 bytes
				t.Errorf("error %q: got %d runes of the answer, want the first 200 bytes", err, strings.Count(err.Error(), "错"))
			}
		})
	}
}

func TestNotifyNetworkFailures(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{"refused", Config{URL: channeltest.ClosedURL(t) + "/hook?key=tok3n"}, nil},
		{"timeout", Config{URL: channeltest.StalledURL(t) + "/hook?key=tok3n", Timeout: conf.Duration(50 * time.Millisecond)}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.cfg, Options{})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = w.Notify(context.Background(), notification(1))
			channeltest.Failure(t, err, true, "", "tok3n")
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		{Name: "empty url"},
		{Name: "relative url", Config: Config{URL: "/hook"}},
		{Name: "ftp url", Config: Config{URL: "ftp://example.com/hook"}},
		{Name: "unparsable url", Config: Config{URL: "http://[::1"}},
		{Name: "negative max_alerts", Config: Config{URL: "https://example.com", MaxAlerts: -1}},
		{Name: "negative timeout", Config: Config{URL: "https://example.com", Timeout: conf.Duration(-time.Second)}},
	})
}

// TestNotifyIdempotencyHeader: every request carries the notification's ID,
// the same on a second copy, so the receiver can drop the copy.
func TestNotifyIdempotencyHeader(t *testing.T) {
	ids := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids <- r.Header.Get(HeaderNotificationID)
	}))
	t.Cleanup(srv.Close)
	w, err := New(Config{URL: srv.URL}, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n := notification(1)
	n.ID = "gw-0123456789abcdef"
	for range 2 {
		if err := w.Notify(context.Background(), n); err != nil {
			t.Fatalf("Notify: %v", err)
		}
		if got := <-ids; got != n.ID {
			t.Errorf("%s: got %q, want %q", HeaderNotificationID, got, n.ID)
		}
	}
}

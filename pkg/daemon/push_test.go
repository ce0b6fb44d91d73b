package daemon

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/collect/source/push"
)

// TestPushedPostReachesTheAnalyzer pushes a signed post with a mobile number
// to the running collector and waits for the privacy alert at the webhook;
// a request with a bad signature is refused and pages nobody.
func TestPushedPostReachesTheAnalyzer(t *testing.T) {
	hook := newReceiver(t, "s3cret-for-test")
	t.Setenv("GOVWATCH_TEST_PUSH_SECRET", "push-s3cret")
	dir := t.TempDir()
	cfg := loadConfig(t, dir, map[string]string{"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
registry:
  units: [{id: fz-gov, name: 福州市人民政府办公厅, region: "350100"}]
  accounts:
    - {id: fz-kuaishou, name: 福州发布, platform: kuaishou, unit: fz-gov, source: {type: push}}
    - {id: fz-other, name: 福州文旅, platform: kuaishou, unit: fz-gov, source: {type: push}}
collector:
  interval: 1s
  sources:
    push:
      keys: [{id: crawler, secret_env: GOVWATCH_TEST_PUSH_SECRET}]
analyzer: {sweep: "@every 1h"}
` + hook.notifier()})
	addr, stop := startAll(t, cfg)

	send := func(secret, account string) int {
		t.Helper()
		published := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		body := []byte(`[{"account_id":"` + account + `","platform":"kuaishou","native_id":"3xq9kd2","kind":"post",
			"text":"咨询电话13805918888，工作日9:00-17:00","author":"福州发布","published_at":"` + published + `"}]`)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+push.Path, bytes.NewReader(body))
		req.Header.Set(push.HeaderKey, "crawler")
		req.Header.Set(push.HeaderTimestamp, ts)
		req.Header.Set(push.HeaderSignature, push.Sign([]byte(secret), ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send("guessed", "fz-other"); got != http.StatusUnauthorized {
		t.Fatalf("got %d for a bad signature, want 401", got)
	}
	if got := send("push-s3cret", "fz-kuaishou"); got != http.StatusOK {
		t.Fatalf("got %d for a signed push, want 200", got)
	}
	waitFor(t, 30*time.Second, "the privacy alert of the pushed post", func() bool {
		return len(hook.firing()["privacy.phone/fz-kuaishou"]) > 0
	})
	if got := hook.firing()["privacy.phone/fz-other"]; len(got) != 0 {
		t.Errorf("got %d alerts for the refused push, want none", len(got))
	}
	stop()
}

package daemon

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/push"
	"github.com/govwatch/govwatch/pkg/simulate"
)

// The limits `govwatch run` gets in the hostile suite: timeouts of seconds,
// so that slow and idle connections end within the test, and a connection
// cap one client reaches.
const (
	hostileCap           = 16
	hostileHeaderTimeout = 3 * time.Second
	hostileReadTimeout   = 4 * time.Second
	hostileIdleTimeout   = 3 * time.Second
	// A connection ended without an answer this soon was refused at accept:
	// every timeout is longer.
	hostileRefusedWithin = 1500 * time.Millisecond
	// hostileSlack is how late after its timeout a connection may end.
	hostileSlack = 5 * time.Second
	// What "flat" allows after the attack: goroutines within a few of the
	// settled process's, resident memory within 64 MiB of it.
	hostileGoroutineMargin = 8
	hostileRSSMargin       = 64 << 20
)

const (
	hostileToken      = "hostile-admin-token-0123456789abcdef"
	hostilePushSecret = "hostile-push-secret-0123456789"
)

// TestHostileInputLeavesNoTrace runs `govwatch run` as its own process on
// the demo with an API token and a push key, reads its goroutines and
// resident memory once it settled, then throws at it concurrently what a
// hostile or broken client sends: oversized bodies on every endpoint that
// takes one, JSON nested 100,000 deep, huge and pathological regexes,
// bodies a browser on another site can send (text/plain, forms), a pushed
// post that is not UTF-8, and from four clients at once more connections
// than the per-client cap, holding them with idle keep-alives, silence and
// bodies trickled in a byte at a time. Every request gets the answer it
// should, with a short message that says what is wrong; every connection
// ends within its timeout or is refused at accept; and afterwards the
// goroutines and the memory are back where they were.
func TestHostileInputLeavesNoTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds govwatch and runs it as a process")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/<pid>/status and dials from 127.0.0.x")
	}
	began := time.Now()
	h := startHostileTarget(t)
	base := h.settle(t)
	t.Logf("baseline after %s: %d goroutines, RSS %s", time.Since(began).Round(100*time.Millisecond), base.goroutines, mib(base.rss))

	watch := h.watch(t)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.throwRequests(t) }()
	go func() {
		defer wg.Done()
		h.holdConnections(t, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"})
	}()
	wg.Wait()
	peak := watch()
	st, err := h.status()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak during the attack: %d goroutines, RSS %s (VmHWM over the process's life %s)", peak.goroutines, mib(peak.rss), mib(st.hwm))

	// Flat: back to the baseline, polled.
	settled := time.Now()
	var after sample
	for {
		after = h.sample(t)
		if after.goroutines <= base.goroutines+hostileGoroutineMargin && after.rss <= base.rss+hostileRSSMargin {
			break
		}
		if time.Since(settled) > 60*time.Second {
			t.Fatalf("not flat 60s after the attack: %d goroutines (baseline %d, margin %d), RSS %s (baseline %s, bound +%s)",
				after.goroutines, base.goroutines, hostileGoroutineMargin, mib(after.rss), mib(base.rss), mib(hostileRSSMargin))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after the attack (%s to settle): %d goroutines (baseline %d, margin %d), RSS %s (baseline %s, bound +%s)",
		time.Since(settled).Round(100*time.Millisecond), after.goroutines, base.goroutines, hostileGoroutineMargin,
		mib(after.rss), mib(base.rss), mib(hostileRSSMargin))

	// And it still does its work.
	h.stillServes(t)
	t.Logf("hostile suite took %s", time.Since(began).Round(100*time.Millisecond))
}

// hostileTarget is the `govwatch run` process under attack.
type hostileTarget struct {
	p    *proc
	addr string
	hook *receiver
}

// startHostileTarget builds govwatch and runs it on the demo with the
// hostile limits, an admin token and a push key.
func startHostileTarget(t *testing.T) *hostileTarget {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "../../cmd/govwatch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sc, err := simulate.LoadScenario("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(simulate.New(sc, clockwork.NewRealClock()).Handler())
	t.Cleanup(sim.Close)
	hook := newReceiver(t, "hostile-hook-secret")
	t.Setenv("GOVWATCH_TEST_ADMIN_TOKEN", hostileToken)
	t.Setenv("GOVWATCH_TEST_PUSH_SECRET", hostilePushSecret)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, map[string]string{
		"registry.yaml": demoRegistry(sim.URL, false) +
			"  - {id: fz-kuaishou, name: 福州发布, platform: kuaishou, unit: fz-gov, source: {type: push}}\n",
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
http:
  header_timeout: ` + hostileHeaderTimeout.String() + `
  read_timeout: ` + hostileReadTimeout.String() + `
  idle_timeout: ` + hostileIdleTimeout.String() + `
  write_timeout: 20s
  max_conns_per_client: ` + strconv.Itoa(hostileCap) + `
registry: {file: registry.yaml}
collector:
  interval: 1s
  workers: 4
  sources:
    push:
      keys: [{id: crawler, secret_env: GOVWATCH_TEST_PUSH_SECRET}]
analyzer: {sweep: "@every 1s"}
` + hook.notifier() + `  api: {admin_token_env: GOVWATCH_TEST_ADMIN_TOKEN}
`,
	})
	p := startCmd(t, "govwatch", 60*time.Second, filepath.Join(bin, "govwatch"), "run", "-config", cfg, "-listen", "127.0.0.1:0")
	return &hostileTarget{p: p, addr: p.http, hook: hook}
}

// sample is what the suite reads of the process at one moment.
type sample struct {
	goroutines int
	rss, hwm   int64   // VmRSS and VmHWM, bytes
	refused    float64 // govwatch_http_connections_refused_total{reason="per_client"}
}

// status reads the process's resident memory from /proc.
func (h *hostileTarget) status() (sample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.p.cmd.Process.Pid))
	if err != nil {
		return sample{}, fmt.Errorf("govwatch gone: %w\n%s", err, tail(h.p.logs(), 30))
	}
	var s sample
	for _, line := range strings.Split(string(b), "\n") {
		for key, v := range map[string]*int64{"VmRSS:": &s.rss, "VmHWM:": &s.hwm} {
			if rest, ok := strings.CutPrefix(line, key); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err != nil {
					return sample{}, fmt.Errorf("%s %q: %w", key, rest, err)
				}
				*v = kb << 10
			}
		}
	}
	return s, nil
}

// read reads the process's memory, and its goroutines and refused
// connections from /metrics, scraped from 127.0.0.1, which the attack
// leaves alone: a client other than those the cap holds back is served.
func (h *hostileTarget) read() (sample, error) {
	s, err := h.status()
	if err != nil {
		return s, err
	}
	code, text, err := (&attacker{addr: h.addr, from: "127.0.0.1"}).do("GET", "/metrics", nil, nil, 0)
	if err != nil || code != http.StatusOK {
		return s, fmt.Errorf("GET /metrics from 127.0.0.1: %d %v", code, err)
	}
	found := 0
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s, fmt.Errorf("go_goroutines %q: %w", v, err)
			}
			s.goroutines = int(n)
			found++
		}
		if v, ok := strings.CutPrefix(line, `govwatch_http_connections_refused_total{reason="per_client"} `); ok {
			s.refused, _ = strconv.ParseFloat(v, 64)
			found++
		}
	}
	if found != 2 {
		return s, fmt.Errorf("/metrics lacks go_goroutines or govwatch_http_connections_refused_total{reason=\"per_client\"}:\n%s", tail(text, 20))
	}
	return s, nil
}

// sample is read for the test's goroutine: it stops the test when the
// process cannot be read.
func (h *hostileTarget) sample(t *testing.T) sample {
	t.Helper()
	s, err := h.read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// settle waits until the demo's alerts were delivered and the goroutines
// have held still for two seconds, and returns the highest reading of
// those two seconds: the baseline.
func (h *hostileTarget) settle(t *testing.T) sample {
	t.Helper()
	h.hook.awaitFiring(t, 90*time.Second, demoAlerts)
	var window []sample
	waitFor(t, 60*time.Second, "the process settled (goroutines steady for 2s)", func() bool {
		window = append(window, h.sample(t))
		time.Sleep(200 * time.Millisecond)
		if len(window) > 10 {
			window = window[len(window)-10:]
		}
		if len(window) < 10 {
			return false
		}
		lo, hi := window[0].goroutines, window[0].goroutines
		for _, s := range window {
			lo, hi = min(lo, s.goroutines), max(hi, s.goroutines)
		}
		return hi-lo <= 4
	})
	var base sample
	for _, s := range window {
		base.goroutines, base.rss, base.refused = max(base.goroutines, s.goroutines), max(base.rss, s.rss), s.refused
	}
	return base
}

// watch samples the process every 100ms until the returned function is
// called, which returns the highest goroutines and RSS seen.
func (h *hostileTarget) watch(t *testing.T) func() sample {
	t.Helper()
	stop, done := make(chan struct{}), make(chan sample)
	go func() {
		var peak sample
		for {
			if s, err := h.read(); err != nil {
				t.Errorf("during the attack: %v", err)
			} else {
				peak.goroutines, peak.rss = max(peak.goroutines, s.goroutines), max(peak.rss, s.rss)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() sample { close(stop); return <-done }
}

// hostileCase is one hostile request and the answer it must get.
type hostileCase struct {
	name         string
	method, path string
	header       map[string]string
	body         []byte
	chunked      bool // sent without a Content-Length
	push         bool // sent with the push key, signed
	// mayReset: the server may reset the connection after its answer's
	// head, as Go's does when it answers a request head over its limit
	// that is still being sent.
	mayReset bool
	want     int
	says     string // the answer holds this
}

// throwRequests sends every hostile request four times at once, each case
// from a loopback address of its own, and checks every answer.
func (h *hostileTarget) throwRequests(t *testing.T) {
	t.Helper()
	json := map[string]string{"Content-Type": "application/json"}
	ctype := func(c string) map[string]string { return map[string]string{"Content-Type": c} }
	pad := func(prefix string, n int, suffix string) []byte {
		return append(append([]byte(prefix), bytes.Repeat([]byte("a"), n)...), suffix...)
	}
	times := `"startsAt": "2026-01-01T00:00:00Z", "endsAt": "2036-01-01T00:00:00Z", "createdBy": "hostile", "comment": "hostile"`
	deep := bytes.Repeat([]byte("["), 100_000)
	deepObject := bytes.Repeat([]byte(`{"a":`), 100_000)
	// A pattern within the byte limit whose program is too large.
	pathological := `(.{1000}){1000}`
	published := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	cases := []hostileCase{
		// Oversized bodies.
		{name: "2 MiB of alerts", method: "POST", path: "/api/v2/alerts", header: json,
			body: pad(`[{"labels": {"alertname": "hostile.big", "unit": "fz-gov"}, "annotations": {"description": "`, 2<<20, `"}}]`),
			want: 413, says: "notifier.api.max_body"},
		{name: "2 MiB of alerts, chunked", method: "POST", path: "/api/v2/alerts", header: json, chunked: true,
			body: pad(`[{"labels": {"alertname": "hostile.big", "unit": "fz-gov"}, "annotations": {"description": "`, 2<<20, `"}}]`),
			want: 413, says: "notifier.api.max_body"},
		{name: "2 MiB silence", method: "POST", path: "/api/v2/silences", header: json,
			body: pad(`{"matchers": [{"name": "alertname", "value": "`, 2<<20, `", "isRegex": false}], `+times+`}`),
			want: 413, says: "larger than"},
		{name: "2 MiB draft", method: "POST", path: "/api/v1/check", header: json,
			body: pad(`{"text": "`, 2<<20, `"}`), want: 413, says: "larger than"},
		{name: "5 MiB push", method: "POST", path: push.Path, header: json, push: true,
			body: pad(`[{"account_id": "fz-kuaishou", "platform": "kuaishou", "native_id": "1", "text": "`, 5<<20, `"}]`),
			want: 413, says: "over the limit"},
		{name: "5 MiB push, chunked", method: "POST", path: push.Path, header: json, push: true, chunked: true,
			body: pad(`[{"account_id": "fz-kuaishou", "platform": "kuaishou", "native_id": "1", "text": "`, 5<<20, `"}]`),
			want: 413, says: "over the limit"},
		{name: "128 KiB acknowledgement", method: "POST", path: "/api/v1/alerts/0123456789abcdef/ack", header: json,
			body: pad(`{"by": "hostile", "note": "`, 128<<10, `"}`), want: 413, says: "larger than"},
		{name: "128 KiB allow entry", method: "POST", path: "/api/v1/findings/allow", header: json,
			body: pad(`{"fingerprint": "0123456789abcdef", "scope": "post", "by": "hostile", "reason": "`, 128<<10, `"}`), want: 413, says: "larger than"},
		{name: "2 MiB request line", method: "GET", path: "/api/v2/alerts?filter=" + strings.Repeat("a", 2<<20),
			mayReset: true, want: 431},

		// JSON nested 100,000 deep.
		{name: "deep alerts", method: "POST", path: "/api/v2/alerts", header: json, body: deep, want: 400, says: "depth"},
		{name: "deep alert object", method: "POST", path: "/api/v2/alerts", header: json,
			body: append([]byte("["), deepObject...), want: 400, says: "depth"},
		{name: "deep silence", method: "POST", path: "/api/v2/silences", header: json,
			body: append([]byte(`{"matchers": `), deep...), want: 400, says: "depth"},
		{name: "deep draft", method: "POST", path: "/api/v1/check", header: json,
			body: append([]byte(`{"text": `), deepObject...), want: 400, says: "depth"},
		{name: "deep push", method: "POST", path: push.Path, header: json, push: true, body: deep, want: 400, says: "not a JSON array"},

		// Huge and pathological regexes.
		{name: "900 KB silence regex", method: "POST", path: "/api/v2/silences", header: json,
			body: pad(`{"matchers": [{"name": "alertname", "value": "`, 900<<10, `", "isRegex": true}], `+times+`}`),
			want: 400, says: "at most 1024"},
		{name: "pathological silence regex", method: "POST", path: "/api/v2/silences", header: json,
			body: []byte(`{"matchers": [{"name": "alertname", "value": "` + pathological + `", "isRegex": true}], ` + times + `}`),
			want: 400, says: "matchers[0]"},
		{name: "900 KB filter", method: "GET", path: "/api/v2/alerts?filter=" + url.QueryEscape(`alertname=~"`+strings.Repeat("a", 900<<10)+`"`),
			want: 400, says: "at most 1024"},
		{name: "pathological filter", method: "GET", path: "/api/v2/alerts?filter=" + url.QueryEscape(`alertname=~"`+pathological+`"`),
			want: 400, says: "filter"},
		{name: "900 KB silences filter", method: "GET", path: "/api/v2/silences?filter=" + url.QueryEscape(`alertname=~"`+strings.Repeat("a", 900<<10)+`"`),
			want: 400, says: "at most 1024"},

		// Bodies another site's page can send without asking.
		{name: "text/plain alerts", method: "POST", path: "/api/v2/alerts", header: ctype("text/plain"),
			body: []byte(`[{"labels": {"alertname": "hostile.csrf", "unit": "fz-gov"}}]`), want: 415, says: "application/json"},
		{name: "form alerts", method: "POST", path: "/api/v2/alerts", header: ctype("application/x-www-form-urlencoded"),
			body: []byte(`[{"labels": {"alertname": "hostile.csrf", "unit": "fz-gov"}}]`), want: 415, says: "application/json"},
		{name: "text/plain silence", method: "POST", path: "/api/v2/silences", header: ctype("text/plain"),
			body: []byte(`{"matchers": [{"name": "alertname", "value": "x"}], ` + times + `}`), want: 415, says: "application/json"},
		{name: "form acknowledgement", method: "POST", path: "/api/v1/alerts/0123456789abcdef/ack", header: ctype("application/x-www-form-urlencoded"),
			body: []byte(`{"by": "hostile"}`), want: 415, says: "application/json"},
		{name: "multipart allow entry", method: "POST", path: "/api/v1/findings/allow", header: ctype("multipart/form-data; boundary=x"),
			body: []byte(`{"fingerprint": "0123456789abcdef"}`), want: 415, says: "application/json"},
		{name: "text/plain draft", method: "POST", path: "/api/v1/check", header: ctype("text/plain"),
			body: []byte(`{"text": "澳门新葡京"}`), want: 415, says: "application/json"},
		{name: "form draft", method: "POST", path: "/api/v1/check", header: ctype("application/x-www-form-urlencoded"),
			body: []byte(`{"text": "澳门新葡京"}`), want: 415, says: "application/json"},

		// A pushed post that is not UTF-8.
		{name: "push, not UTF-8", method: "POST", path: push.Path, header: json, push: true,
			body: []byte(`[{"account_id": "fz-kuaishou", "platform": "kuaishou", "native_id": "hostile-1", "kind": "post", "text": "咨询电话` + "\xff\xfe" + `", "published_at": "` + published + `"}]`),
			want: 422, says: "not valid UTF-8"},
	}
	var wg sync.WaitGroup
	for i, tc := range cases {
		a := &attacker{addr: h.addr, from: fmt.Sprintf("127.0.0.%d", 20+i)}
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, answer, err := a.send(tc)
				if err != nil && !(tc.mayReset && code == tc.want) {
					t.Errorf("%s: %v", tc.name, err)
					return
				}
				if code != tc.want || !strings.Contains(answer, tc.says) {
					t.Errorf("%s: %d %s, want %d saying %q", tc.name, code, clip(answer, 300), tc.want, tc.says)
				}
				// A clear message, not the request echoed back.
				if len(answer) > 2<<10 {
					t.Errorf("%s: an answer of %d bytes: %s", tc.name, len(answer), clip(answer, 300))
				}
			}()
		}
	}
	wg.Wait()
}

// attacker sends requests from one loopback address, each on a
// connection of its own.
type attacker struct {
	addr string // the target
	from string // the address dialled from
}

func (a *attacker) dial() (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(a.from)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", a.addr)
}

// send sends tc with the admin token, or with the push key and a signature
// when tc.push, and returns the answer's status and body.
func (a *attacker) send(tc hostileCase) (int, string, error) {
	header := map[string]string{}
	for k, v := range tc.header {
		header[k] = v
	}
	if tc.push {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		header[push.HeaderKey] = "crawler"
		header[push.HeaderTimestamp] = ts
		header[push.HeaderSignature] = push.Sign([]byte(hostilePushSecret), ts, tc.body)
	} else {
		header["Authorization"] = "Bearer " + hostileToken
	}
	length := int64(len(tc.body))
	if tc.chunked {
		length = -1
	}
	return a.do(tc.method, tc.path, header, tc.body, length)
}

// do writes a request (length -1: chunked) while it reads the answer, so
// an answer sent before the whole body was read is read all the same.
func (a *attacker) do(method, path string, header map[string]string, body []byte, length int64) (int, string, error) {
	c, err := a.dial()
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck // then every read fails
	req, err := http.NewRequest(method, "http://"+a.addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = length
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Close = true
	go req.Write(c) //nolint:errcheck // the server may stop reading early; the answer tells
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: no answer: %w", method, clip(path, 60), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, string(b), fmt.Errorf("%s %s: reading the answer: %w", method, clip(path, 60), err)
	}
	return resp.StatusCode, string(b), nil
}

// held is how one held connection ended.
type held struct {
	kind  string        // idle, silent or slow
	ended time.Duration // after it was opened (idle: after its answer)
	code  int           // the answer's status; 0: none
}

// holdConnections has each client open more connections than the cap: 4
// idle keep-alives, after their one request; then 4 that send nothing and 16
// that announce a body and trickle it in a byte every 200ms, to the alert
// API, the push endpoint and the draft check. Every connection must end:
// those over the cap at once, refused at accept, the others by their
// timeout; none may get a 2xx.
func (h *hostileTarget) holdConnections(t *testing.T, clients []string) {
	t.Helper()
	const idle, silent, slow = 4, 4, 16
	over := idle + silent + slow - hostileCap
	before := h.sample(t).refused
	results := make([][]held, len(clients))
	var wg sync.WaitGroup
	for i, from := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &attacker{addr: h.addr, from: from}
			var mu sync.Mutex
			var conns sync.WaitGroup
			keep := func(r held) { mu.Lock(); results[i] = append(results[i], r); mu.Unlock() }
			// The keep-alives first, so that they hold their places.
			ready := make(chan struct{}, idle)
			for range idle {
				conns.Add(1)
				go func() { defer conns.Done(); keep(a.idle(t, ready)) }()
			}
			for range idle {
				<-ready
			}
			for range silent {
				conns.Add(1)
				go func() { defer conns.Done(); keep(a.silent(t)) }()
			}
			targets := []struct {
				path   string
				header string
			}{
				{"/api/v2/alerts", "Authorization: Bearer " + hostileToken + "\r\nContent-Type: application/json\r\n"},
				{push.Path, push.HeaderKey + ": crawler\r\nContent-Type: application/json\r\n"},
				{"/api/v1/check", "Authorization: Bearer " + hostileToken + "\r\nContent-Type: application/json\r\n"},
			}
			for j := range slow {
				conns.Add(1)
				go func() { defer conns.Done(); tg := targets[j%len(targets)]; keep(a.slow(t, tg.path, tg.header)) }()
			}
			conns.Wait()
		}()
	}
	wg.Wait()

	for i, from := range clients {
		refused := 0
		codes := map[string]map[int]int{}
		for _, r := range results[i] {
			if codes[r.kind] == nil {
				codes[r.kind] = map[int]int{}
			}
			codes[r.kind][r.code]++
			if r.kind != "idle" && r.code == 0 && r.ended < hostileRefusedWithin {
				refused++
				continue
			}
			limit := map[string]time.Duration{"idle": hostileIdleTimeout, "silent": hostileHeaderTimeout, "slow": hostileReadTimeout}[r.kind] + hostileSlack
			if r.ended > limit {
				t.Errorf("%s: a %s connection held for %s, over its timeout and slack (%s)", from, r.kind, r.ended.Round(time.Millisecond), limit)
			}
			// A slow body is told it was too slow; the others get nothing.
			if want := map[string]int{"slow": http.StatusRequestTimeout}[r.kind]; r.code != want {
				t.Errorf("%s: a %s connection got %d, want %d", from, r.kind, r.code, want)
			}
		}
		if refused != over {
			t.Errorf("%s: %d connections refused at accept, want %d (%d opened, cap %d)", from, refused, over, idle+silent+slow, hostileCap)
		}
		t.Logf("%s: %d connections, %d refused at accept; answers by kind (0: none) %v", from, len(results[i]), refused, codes)
	}
	if got := h.sample(t).refused - before; got != float64(over*len(clients)) {
		t.Errorf("govwatch_http_connections_refused_total{reason=\"per_client\"} rose by %v, want %d", got, over*len(clients))
	}
}

// idle makes one request, tells ready, and waits for the server to close
// the keep-alive.
func (a *attacker) idle(t *testing.T, ready chan<- struct{}) held {
	c, err := a.dial()
	if err != nil {
		t.Errorf("%s: %v", a.from, err)
		ready <- struct{}{}
		return held{kind: "idle"}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hostileIdleTimeout + 2*hostileSlack))   //nolint:errcheck // then the read fails
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: govwatch\r\n\r\n") //nolint:errcheck // the read tells
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	ready <- struct{}{}
	if err != nil {
		t.Errorf("%s: a keep-alive's request got no answer: %v", a.from, err)
		return held{kind: "idle"}
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // a short answer
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s: GET /healthz: %d", a.from, resp.StatusCode)
	}
	answered := time.Now()
	// The server closes it; it must not answer anything more.
	r := held{kind: "idle"}
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("%s: an idle keep-alive got bytes it did not ask for", a.from)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: an idle keep-alive was still open after %s", a.from, time.Since(answered).Round(time.Millisecond))
	}
	r.ended = time.Since(answered)
	return r
}

// silent opens a connection, sends nothing and waits for it to close.
func (a *attacker) silent(t *testing.T) held {
	opened := time.Now()
	c, err := a.dial()
	if err != nil {
		t.Errorf("%s: %v", a.from, err)
		return held{kind: "silent"}
	}
	defer c.Close()
	return a.await(t, c, "silent", opened)
}

// slow announces a body of 1 MB on path with header lines header and
// sends it a byte every 200ms, until the server closes the connection.
func (a *attacker) slow(t *testing.T, path, header string) held {
	opened := time.Now()
	c, err := a.dial()
	if err != nil {
		t.Errorf("%s: %v", a.from, err)
		return held{kind: "slow"}
	}
	defer c.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		head := "POST " + path + " HTTP/1.1\r\nHost: govwatch\r\n" + header + push.HeaderTimestamp + ": " + strconv.FormatInt(time.Now().Unix(), 10) + "\r\nContent-Length: 1000000\r\n\r\n["
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := io.WriteString(c, " "); err != nil {
				return
			}
		}
	}()
	return a.await(t, c, "slow", opened)
}

// await reads c until the server closes it, and returns how long that
// took and the status of the answer it sent first, if any.
func (a *attacker) await(t *testing.T, c net.Conn, kind string, opened time.Time) held {
	c.SetReadDeadline(time.Now().Add(hostileReadTimeout + 2*hostileSlack)) //nolint:errcheck // then the read fails
	r := held{kind: kind}
	br := bufio.NewReader(c)
	if resp, err := http.ReadResponse(br, nil); err == nil {
		r.code = resp.StatusCode
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // up to the close
		resp.Body.Close()
	}
	_, err := io.Copy(io.Discard, br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: a %s connection was still open after %s", a.from, kind, time.Since(opened).Round(time.Millisecond))
	}
	r.ended = time.Since(opened)
	return r
}

// stillServes sends what a well-behaved client sends: an alert, a pushed
// post and a draft are taken.
func (h *hostileTarget) stillServes(t *testing.T) {
	t.Helper()
	a := &attacker{addr: h.addr, from: "127.0.0.1"}
	json := map[string]string{"Content-Type": "application/json"}
	published := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, tc := range []hostileCase{
		{name: "an alert", method: "POST", path: "/api/v2/alerts", header: json,
			body: []byte(`[{"labels": {"alertname": "content.illegal_link", "severity": "critical", "unit": "fz-gov", "account_id": "fz-wechat"}}]`), want: 200},
		{name: "a pushed post", method: "POST", path: push.Path, header: json, push: true,
			body: []byte(`[{"account_id": "fz-kuaishou", "platform": "kuaishou", "native_id": "hostile-2", "kind": "post", "text": "今日天气晴", "published_at": "` + published + `"}]`), want: 200},
		{name: "a draft", method: "POST", path: "/api/v1/check", header: json, body: []byte(`{"text": "澳门新葡京"}`), want: 200, says: "prohibited.gambling"},
	} {
		code, answer, err := a.send(tc)
		if err != nil || code != tc.want || !strings.Contains(answer, tc.says) {
			t.Errorf("after the attack, %s: %d %s %v, want %d", tc.name, code, clip(answer, 300), err, tc.want)
		}
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// clip shortens s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}

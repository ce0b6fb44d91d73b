package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel/webhook"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadProblems loads the file p, which must fail, and returns its
// problems after checking that they include each of want.
func loadProblems(t *testing.T, p string, want ...string) string {
	t.Helper()
	_, err := Load(p)
	if err == nil {
		t.Fatalf("Load(%s) succeeded, want problems", p)
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("problems lack %q; got:\n%s", w, got)
		}
	}
	return got
}

const goodRegistry = `
units:
  - {id: fj, name: 福建省人民政府办公厅, region: "350000"}
  - {id: fz, name: 福州市人民政府办公厅, region: "350100", parent: fj}
accounts:
  - id: fz-wechat
    name: 福州发布
    platform: wechat
    unit: fz
    source: {type: rss, url: "http://127.0.0.1:8080/feeds/fz-wechat.rss"}
    stale_after: 10d
`

func TestLoadGood(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	t.Setenv("GW_TEST_HOOK", "https://hooks.example.org/alert")
	p := write(t, dir, "govwatch.yaml", `
registry: {file: registry.yaml}
analyzer: {detectors: {testdet: {window: 2h}}, sweep: "CRON_TZ=Asia/Shanghai */5 * * * *"}
notifier:
  receivers:
    - {name: console, console: {}}
    - {name: ops, webhook: {url: "${GW_TEST_HOOK}", secret_env: GW_TEST_HOOK}}
  route: {receiver: console, routes: [{receiver: ops, match: {severity: critical}}]}
`)
	l, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var det *DetectorConfig
	for i := range l.Detectors {
		if l.Detectors[i].Name == "testdet" {
			det = &l.Detectors[i]
		}
	}
	if det == nil || det.Config.(*testDetectorConfig).Window.D() != 2*time.Hour {
		t.Errorf("analyzer.detectors.testdet = %+v, want window 2h", det)
	}
	if got, want := l.Notifier.Receivers[1].Channels[0].Config.(*webhook.Config).URL, "https://hooks.example.org/alert"; got != want {
		t.Errorf("expanded url = %q, want %q", got, want)
	}
	if got, want := l.Collector.Workers, Default().Collector.Workers; got != want {
		t.Errorf("default workers = %d, want %d", got, want)
	}
	a, ok := l.Registry.Account("fz-wechat")
	if !ok || a.StaleAfter != 10*24*time.Hour || a.Status != "active" {
		t.Errorf("account = %+v, want stale_after 10d and status active", a)
	}
	if chain := l.Registry.Chain("fz"); len(chain) != 2 || chain[1].ID != "fj" {
		t.Errorf("chain = %v, want fz then fj", chain)
	}
}

func TestLoadReportsEveryProblemWithLine(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "bad.yaml", `bogus_top: 1
analyzer:
  detectors: {testdet: {window: fortnight}}
  sweep_intervall: 1m
registry:
  units:
    - {id: fz, name: 福州}
    - {id: a, name: A, parent: b}
    - {id: b, name: B, parent: a}
  accounts:
    - {id: x1, name: X, platform: wechat, unit: nowhere, source: {type: rss, url: "http://h/f"}}
    - {id: x1, name: X, platform: wechat, unit: fz, source: {type: rss, url: "http://h/f"}}
    - {id: "Bad Id", name: Y, platform: weibo, unit: fz, source: {type: rss, url: "http://h/f"}}
    - {id: x3, name: Z, platform: myspace, unit: fz, source: {type: carrier-pigeon}}
notifier:
  route: {receiver: nobody}
last_unknown: true
`)
	out := loadProblems(t, p,
		"bad.yaml:1: bogus_top: unknown key \"bogus_top\"",
		"bad.yaml:3:", "fortnight",
		"bad.yaml:4: analyzer.sweep_intervall: unknown key",
		"parent cycle",
		"bad.yaml:11: registry.accounts[0].unit: unknown unit \"nowhere\"",
		"bad.yaml:12: registry.accounts[1].id: duplicate account id \"x1\"",
		"bad.yaml:13: registry.accounts[2].id: id \"Bad Id\" must match",
		"unknown platform \"myspace\"",
		"unknown source type \"carrier-pigeon\"",
		"notifier.route.receiver: unknown receiver \"nobody\"",
		"bad.yaml:17: last_unknown: unknown key",
	)
	if n := strings.Count(out, "\n") + 1; n < 11 {
		t.Errorf("got %d problem lines, want one per problem (≥ 11):\n%s", n, out)
	}
}

func TestUnsetEnvIsAProblem(t *testing.T) {
	p := write(t, t.TempDir(), "c.yaml", "data_dir: ${GOVWATCH_SURELY_UNSET_VAR}\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:1: environment variable GOVWATCH_SURELY_UNSET_VAR is not set") {
		t.Fatalf("got %v, want the unset variable named with file:line", err)
	}
}

func TestRegistryFileProblemsPointIntoThatFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "reg.yaml", "units:\n  - {id: fz, name: 福州}\naccounts:\n  - {id: a, name: A, platform: weibo, unit: gone, source: {type: rss, url: \"http://h/f\"}}\n")
	p := write(t, dir, "c.yaml", "registry: {file: reg.yaml}\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "reg.yaml:4: accounts[0].unit: unknown unit \"gone\"") {
		t.Fatalf("got %v, want the problem located in reg.yaml:4", err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "14d", want: 14 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "90s", want: 90 * time.Second},
		{in: "d", bad: true},
		{in: "-5m", bad: true},
		{in: "soon", bad: true},
	} {
		got, err := conf.ParseDuration(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("conf.ParseDuration(%q) = %v, %v; want %v, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, p := range []string{"../../configs/govwatch.yaml"} {
		l, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(l.Registry.Accounts()) == 0 {
			t.Errorf("%s: no accounts", p)
		}
	}
}

func TestBadCronIsAProblem(t *testing.T) {
	// robfig/cron panics on "CRON_TZ=Asia/Shanghai" with nothing after it;
	// the loader must turn that into a problem, not a crash.
	for _, spec := range []string{"every minute", "CRON_TZ=Asia/Shanghai", "CRON_TZ=Mars/Olympus * * * * *"} {
		p := write(t, t.TempDir(), "c.yaml", "analyzer: {sweep: \""+spec+"\"}\n")
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), "c.yaml:1: analyzer.sweep: bad cron schedule") {
			t.Errorf("sweep %q: got %v, want a bad cron schedule problem at c.yaml:1", spec, err)
		}
	}
}

func TestNotifyCoreProblems(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "c.yaml", `notifier:
  receivers:
    - {name: a, console: {}, fallback: b}
  route:
    receiver: a
    matchers: ['severity=~"("']
  roster: missing-roster.yaml
  escalation:
    - name: p
      steps:
        - {after: 30m, notify: [boss]}
        - {after: 15m, notify: [head], receivers: [nobody]}
    - name: p
  inhibit_rules:
    - {source_matchers: ['alertname="x"']}
  ack: {link_ttl: 10s}
  api:
    tokens:
      - {unit: fz-gov}
`)
	loadProblems(t, p,
		`c.yaml:3: notifier.receivers[0].fallback: fallback "b" is not another receiver`,
		`c.yaml:6: notifier.route.matchers[0]: matcher`,
		`c.yaml:7: notifier.roster: cannot read "missing-roster.yaml"`,
		`c.yaml:11: notifier.escalation[0].steps[0].notify[0]: unknown target "boss"`,
		`c.yaml:12: notifier.escalation[0].steps[1].after: steps must be in order`,
		`c.yaml:12: notifier.escalation[0].steps[1].receivers[0]: unknown receiver "nobody"`,
		`c.yaml:13: notifier.escalation[1].name: duplicate policy "p"`,
		`notifier.escalation[1].steps: policy "p" has no steps`,
		`c.yaml:15: notifier.inhibit_rules[0]: an inhibition rule needs source and target matchers`,
		`notifier.ack.link_ttl: must be at least 1m`,
		`notifier.api.tokens[0]: token of unit "fz-gov" names no token_file or token_env`,
	)
}

// TestExternalURLRequired: a notifier other hosts reach sends links phones
// open, so http.external_url must be set to an address outside the machine
// and the cluster; a notifier on loopback (the demo) may leave it empty.
func TestExternalURLRequired(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "admin-token", "0123456789abcdef0123456789abcdef\n")
	base := "registry:\n  units: [{id: fz, name: 福州}]\nnotifier:\n  receivers: [{name: c, console: {}}]\n  route: {receiver: c}\n  api: {admin_token_file: admin-token}\n"
	public := "  listen: \":9103\"\n"
	tests := []struct {
		name, yaml string
		want       []string // problems; none: it loads
	}{
		{"not set, notifier on every interface", "http:\n  listen: 127.0.0.1:8080\n" + base + public,
			[]string{`http.external_url: not set, and notifier.listen ":9103" is reachable from other hosts`}},
		{"not set, all-in-one on every interface", "http:\n  listen: \":8080\"\n" + base,
			[]string{`http.external_url: not set, and http.listen ":8080" is reachable`}},
		{"cluster-internal", "http:\n  external_url: http://govwatch-notifier.govwatch.svc:9103\n" + base + public,
			[]string{`"http://govwatch-notifier.govwatch.svc:9103" is a cluster-internal name that phones cannot resolve`}},
		{"cluster.local", "http:\n  external_url: http://gw.govwatch.svc.cluster.local\n" + base + public,
			[]string{`cluster-internal name`}},
		{"loopback link, public notifier", "http:\n  external_url: http://localhost:9103\n" + base + public,
			[]string{`"http://localhost:9103" names this machine only (loopback)`}},
		{"not a URL", "http:\n  external_url: govwatch.example.gov.cn\n" + base,
			[]string{`"govwatch.example.gov.cn" is not an absolute http or https URL`}},
		{"public", "http:\n  external_url: https://govwatch.example.gov.cn\n" + base + public, nil},
		{"demo on loopback, not set", "http:\n  listen: 127.0.0.1:8080\n" + base, nil},
		{"demo on loopback, loopback link", "http:\n  listen: 127.0.0.1:8080\n  external_url: http://127.0.0.1:8080\n" + base, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, "links.yaml", tt.yaml)
			if tt.want != nil {
				loadProblems(t, p, tt.want...)
				return
			}
			if _, err := Load(p); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

// TestOpenAPIRefused: a notifier API with no token may only listen on
// loopback, unless the config says it knowingly serves it open.
func TestOpenAPIRefused(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "admin-token", "0123456789abcdef0123456789abcdef\n")
	base := "registry:\n  units: [{id: fz, name: 福州}]\nnotifier:\n  receivers: [{name: c, console: {}}]\n  route: {receiver: c}\n"
	tests := []struct {
		name, yaml string
		want       []string // problems; none: it loads
	}{
		{"every interface", "http:\n  listen: \":8080\"\n" + base,
			[]string{`open.yaml:2: http.listen: ":8080" is reachable from other hosts`, "127.0.0.1:8080", "http.insecure_open_api: true"}},
		{"all addresses, notifier daemon", "http:\n  listen: 127.0.0.1:8080\n" + base + "  listen: 0.0.0.0:9103\n",
			[]string{`notifier.listen: "0.0.0.0:9103" is reachable from other hosts`}},
		{"loopback", "http:\n  listen: 127.0.0.1:8080\n" + base, nil},
		{"localhost and ipv6 loopback", "http:\n  listen: localhost:8080\n" + base + "  listen: \"[::1]:9103\"\n", nil},
		{"knowingly open", "http:\n  listen: \":8080\"\n  external_url: https://gw.example.gov.cn\n  insecure_open_api: true\n" + base + "  listen: \":9103\"\n", nil},
		{"a token", "http:\n  listen: \":8080\"\n  external_url: https://gw.example.gov.cn\n" + base + "  listen: \":9103\"\n  api: {admin_token_file: admin-token}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, "open.yaml", tt.yaml)
			if tt.want != nil {
				loadProblems(t, p, tt.want...)
				return
			}
			if _, err := Load(p); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

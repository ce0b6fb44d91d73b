package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/daemon"
)

// TestStartupRefusalsAreConfigProblems walks what the daemons read at
// start-up beside the file itself — secrets, the roster and its holidays,
// templates, lexicons, the scenario — and shows that each one the daemon
// refuses is a problem `govwatch config check` reports, at the key that
// names the culprit: an operator who checks the file before a deployment
// is not surprised by the restart.
func TestStartupRefusalsAreConfigProblems(t *testing.T) {
	const base = `http: {listen: "127.0.0.1:0"}
registry:
  units: [{id: fz, name: 福州市, head: {name: 主任}}]
  accounts:
    - {id: a1, name: 福州发布, platform: weibo, unit: fz, source: {type: rss, url: "http://127.0.0.1:1/feed"}}
`
	for _, tc := range []struct {
		name  string
		yaml  string            // appended to base
		files map[string]string // written beside the config
		env   map[string]string
		want  string // file:line: path: message, the file being "CONFIG" or a file name
	}{
		{name: "api token too short",
			yaml: "notifier:\n  api:\n    tokens: [{unit: fz, token_env: GW_T_FZ}]\n", env: map[string]string{"GW_T_FZ": "short"},
			want: "CONFIG:9: notifier.api.tokens[0].token_env: the token of fz has 5 bytes, want at least 32"},
		{name: "api token of an unknown unit",
			yaml: "notifier:\n  api:\n    tokens:\n      - unit: xm\n        token_file: tok\n", files: map[string]string{"tok": "0123456789abcdef0123456789abcdef"},
			want: `CONFIG:10: notifier.api.tokens[0].unit: unknown unit "xm"`},
		{name: "admin token too short",
			yaml: "notifier:\n  api:\n    admin_token_file: admin\n", files: map[string]string{"admin": "admin\n"},
			want: "CONFIG:9: notifier.api.admin_token_file: the admin token has 5 bytes, want at least 32"},
		{name: "previous ack key too short",
			yaml: "notifier:\n  ack:\n    key_env: GW_ACK\n    previous_key_env: GW_ACK_OLD\n", env: map[string]string{"GW_ACK": "0123456789abcdef", "GW_ACK_OLD": "old"},
			want: "CONFIG:10: notifier.ack.previous_key_env: the previous signing key has 3 bytes, want at least 16"},
		{name: "ack key too short",
			yaml: "notifier:\n  ack:\n    key_env: GW_ACK\n", env: map[string]string{"GW_ACK": "0123"},
			want: "CONFIG:9: notifier.ack.key_env: the signing key has 4 bytes, want at least 16"},
		{name: "roster of an unknown unit",
			yaml: "notifier:\n  roster: roster.yaml\n", files: map[string]string{"roster.yaml": "teams:\n  - unit: xm\n    layers: [{rotation: daily, handoff: \"08:30\", start: 2026-01-05, members: [{name: 甲}]}]\n"},
			want: `roster.yaml:2: teams[0].unit: unknown unit "xm"`},
		{name: "roster's holidays missing",
			yaml: "notifier:\n  roster: roster.yaml\n", files: map[string]string{"roster.yaml": "holidays: nowhere\nteams: []\n"},
			want: `roster.yaml:1: holidays: holiday folder "nowhere" does not exist`},
		{name: "report template that does not parse",
			yaml: "notifier:\n  report_template: report.tmpl\n", files: map[string]string{"report.tmpl": "{{.Unit"},
			want: "CONFIG:8: notifier.report_template: "},
		{name: "lexicons that do not load",
			yaml: "analyzer:\n  lexicons: lex\n", files: map[string]string{"lex/prohibited.gambling.txt": "赌球\tsuper\n"},
			want: "CONFIG:8: analyzer.lexicons: lexicons "},
		{name: "scenario that does not load",
			yaml: "simulate:\n  enabled: true\n  scenario: scenario.yaml\n", files: map[string]string{"scenario.yaml": "accounts: 3\n"},
			want: "CONFIG:9: simulate.scenario: load scenario "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			cfg := writeFile(t, dir, "govwatch.yaml", "data_dir: "+data+"\n"+base+tc.yaml)
			for name, text := range tc.files {
				writeFile(t, dir, name, text)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			want := strings.Replace(tc.want, "CONFIG", cfg, 1)
			if !strings.HasPrefix(tc.want, "CONFIG") {
				want = filepath.Join(dir, tc.want)
			}

			code, _, errOut := run("config", "check", cfg)
			if code != ExitProblem || !strings.Contains(errOut, want) {
				t.Errorf("config check: exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, ExitProblem, want)
			}

			// The daemon refuses the same file with the same words, before
			// anything starts. Its context is already over: a daemon that
			// did not refuse starts, stops at once and exits 0.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			code, errOut = runDaemon(ctx, daemon.All, "-config", cfg)
			if code != ExitProblem || !strings.Contains(errOut, want) {
				t.Errorf("govwatch run: exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, ExitProblem, want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Error("the data directory was created: something started despite the problem")
			}
		})
	}
}

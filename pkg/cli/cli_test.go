package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the govwatch tool with args and an empty stdin, and returns its
// exit status, stdout and stderr.
func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// runDaemon runs the daemon of components with args until ctx ends, and
// returns its exit status and stderr.
func runDaemon(ctx context.Context, components []string, args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := Daemon(ctx, components, args, IO{Stdout: &out, Stderr: &errOut})
	return code, errOut.String()
}

// refusal is a call of the govwatch tool it must refuse: the exit status
// and what stderr must say.
type refusal struct {
	name   string
	args   []string
	code   int
	stderr string
}

// testRefusals runs each refusal as a subtest.
func testRefusals(t *testing.T, refusals []refusal) {
	t.Helper()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}
}

// writeFile writes text to the file name below dir, making its folders,
// and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "bogus: 1\nanalyzer:\n  detectors: {staleness: {stale_after: 2 weeks}}\nregistry:\n  units: [{id: fz, name: 福州}]\n  accounts:\n    - {id: a, name: A, platform: weibo, unit: fz, source: {type: rss, url: \"http://h/f\"}}\n    - {id: a, name: B, platform: weibo, unit: xm, source: {type: rss, url: \"http://h/f\"}}\n")
	// Each detector's texts are checked against its templates.
	badTexts := writeFile(t, dir, "texts.yaml", "analyzer:\n  detectors:\n    staleness:\n      texts:\n        summry: x\n        summary: '{{.Days'\n")
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas []string
	}{
		{name: "shipped config", args: []string{"config", "check", "../../configs/govwatch.yaml"}, code: 0, stdout: "ok\n"},
		{name: "bad config", args: []string{"config", "check", bad}, code: 1, stderrHas: []string{
			bad + ":1: bogus: unknown key",
			bad + ":3: analyzer.detectors.staleness.stale_after: bad duration",
			bad + ":8: registry.accounts[1].id: duplicate account id \"a\"",
			bad + ":8: registry.accounts[1].unit: unknown unit \"xm\"",
		}},
		{name: "bad texts", args: []string{"config", "check", badTexts}, code: 1, stderrHas: []string{
			badTexts + ":5: analyzer.detectors.staleness.texts.summry: unknown template (cleared, description,",
			badTexts + ":6: analyzer.detectors.staleness.texts.summary: template: summary:1: unclosed action",
		}},
		{name: "missing file", args: []string{"config", "check", filepath.Join(dir, "nope.yaml")}, code: 1, stderrHas: []string{"nope.yaml: open"}},
		{name: "no file", args: []string{"config", "check"}, code: 2, stderrHas: []string{"usage: govwatch config check FILE"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrHas: []string{`unknown command "frobnicate"`}},
		{name: "no command", args: nil, code: 2, stderrHas: []string{"Usage:"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: "govwatch dev\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if tc.stdout != "" && out != tc.stdout {
				t.Errorf("stdout %q, want %q", out, tc.stdout)
			}
			for _, w := range tc.stderrHas {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// A daemon refuses a bad file with the problem named, before anything
// starts: its data directory is not created.
func TestDaemonRefusesBadConfigBeforeStarting(t *testing.T) {
	for _, tc := range []struct {
		name      string
		component string
		yaml      string // after data_dir and http
		want      string // in stderr, CONFIG standing for the file's path
	}{
		{"bad value", "collector", "collector: {workers: 0}\n", "collector.workers: must be at least 1"},
		{"bad texts", "analyzer", "analyzer:\n  detectors:\n    stalenes: {texts: {summary: x}}\n", "CONFIG:5: analyzer.detectors.stalenes: unknown detector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "d")
			bad := writeFile(t, dir, "bad.yaml", "data_dir: "+data+"\nhttp: {listen: \"127.0.0.1:0\"}\n"+tc.yaml)
			code, errOut := runDaemon(context.Background(), []string{tc.component}, "-config", bad)
			if want := strings.Replace(tc.want, "CONFIG", bad, 1); code != ExitProblem || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Error("the data directory was created: something started despite the bad config")
			}
		})
	}
}

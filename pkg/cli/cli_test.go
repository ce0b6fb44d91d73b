package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	body := "bogus: 1\nanalyzer:\n  detectors: {staleness: {stale_after: 2 weeks}}\nregistry:\n  units: [{id: fz, name: 福州}]\n  accounts:\n    - {id: a, name: A, platform: weibo, unit: fz, source: {type: rss, url: \"http://h/f\"}}\n    - {id: a, name: B, platform: weibo, unit: xm, source: {type: rss, url: \"http://h/f\"}}\n"
	if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each detector's texts are checked against its templates.
	badTexts := filepath.Join(dir, "texts.yaml")
	body = "analyzer:\n  detectors:\n    staleness:\n      texts:\n        summry: x\n        summary: '{{.Days'\n"
	if err := os.WriteFile(badTexts, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
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

func TestDaemonRefusesBadConfigBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("data_dir: "+filepath.Join(dir, "d")+"\nhttp: {listen: \"127.0.0.1:0\"}\ncollector: {workers: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Daemon(context.Background(), []string{"collector"}, []string{"-config", bad}, IO{Stdout: &out, Stderr: &errb})
	if code != ExitProblem || !strings.Contains(errb.String(), "collector.workers: must be at least 1") {
		t.Errorf("exit %d, stderr %q; want 1 and the problem named", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bad), "d")); err == nil {
		t.Error("the data directory was created: something started despite the bad config")
	}
}

func TestDaemonRefusesBadTextsBeforeStarting(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	body := "data_dir: " + filepath.Join(dir, "d") + "\nhttp: {listen: \"127.0.0.1:0\"}\nanalyzer:\n  detectors:\n    stalenes: {texts: {summary: x}}\n"
	if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Daemon(context.Background(), []string{"analyzer"}, []string{"-config", bad}, IO{Stdout: &out, Stderr: &errb})
	if want := bad + ":5: analyzer.detectors.stalenes: unknown detector"; code != ExitProblem || !strings.Contains(errb.String(), want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errb.String(), want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(bad), "d")); err == nil {
		t.Error("the data directory was created: something started despite the bad config")
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lexiconRun runs `govwatch lexicon` with args and returns its status and
// outputs.
func lexiconRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := Main(t.Context(), append([]string{"lexicon"}, args...), IO{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestLexiconImport(t *testing.T) {
	dir := t.TempDir()
	lex := filepath.Join(dir, "lexicons")
	ctl := filepath.Join(dir, "controls")
	for _, d := range []string{lex, ctl} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, lex, "prohibited.porn.txt", "# curated\n裸聊\n")
	writeFile(t, ctl, "reports.txt", "# source: test\n全市新建成人行天桥三座。\n加快发展新质生产力，推动高质量发展。\n")
	list := writeFile(t, dir, "list.txt", "\uFEFF成人\n裸聊\n约炮\n黄\n\n# a comment\n一夜情\n约炮\n")

	code, out, errOut := lexiconRun(t, "import", list, "--category", "prohibited.porn", "--lexicons", lex, "--controls", ctl)
	if code != ExitOK {
		t.Fatalf("import = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"imported 2 terms into " + filepath.Join(lex, "prohibited.porn.txt") + " (2 already there or repeated)",
		"left out 1 single characters: 黄",
		"left out 1 terms that fire on the 2 control sentences",
		"成人\t" + list + ":1\tfires 1 times, e.g. reports.txt:2: 全市新建成人行天桥三座。",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(lex, "prohibited.porn.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	if !strings.HasPrefix(got, "# curated\n裸聊\n# imported from list.txt on ") || !strings.HasSuffix(got, ": 2 terms\n约炮\n一夜情\n") {
		t.Errorf("lexicon file =\n%s", got)
	}

	// Asked for, the firing terms go in too, with the given severity.
	code, out, _ = lexiconRun(t, "import", list, "--category", "prohibited.porn", "--severity", "major", "--lexicons", lex, "--controls", ctl, "--include-firing")
	if code != ExitOK || !strings.Contains(out, "imported 1 terms") || !strings.Contains(out, "imported although they fire: 1 terms") {
		t.Fatalf("import --include-firing = %d:\n%s", code, out)
	}
	data, _ = os.ReadFile(filepath.Join(lex, "prohibited.porn.txt"))
	if !strings.HasSuffix(string(data), "成人\tmajor\n") {
		t.Errorf("lexicon file =\n%s", data)
	}
}

func TestLexiconImportProblems(t *testing.T) {
	dir := t.TempDir()
	lex := filepath.Join(dir, "lexicons")
	if err := os.Mkdir(lex, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := writeFile(t, dir, "bad.txt", "赌场\n\xff\xfe\n百家乐\tloud\n")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bad lines", []string{"import", bad, "--category", "prohibited.gambling", "--lexicons", lex},
			ExitProblem, []string{bad + ":2: not UTF-8", bad + `:3: unknown severity "loud"`}},
		{"unknown category", []string{"import", bad, "--category", "rude", "--lexicons", lex},
			ExitProblem, []string{`"rude" is not a content category`}},
		{"no category", []string{"import", bad, "--lexicons", lex}, ExitUsage, []string{"--category is required"}},
		{"bad severity", []string{"import", bad, "--category", "prohibited.gambling", "--severity", "loud", "--lexicons", lex}, ExitUsage, []string{`--severity "loud"`}},
		{"missing file", []string{"import", filepath.Join(dir, "none.txt"), "--category", "prohibited.gambling", "--lexicons", lex}, ExitUsage, []string{"none.txt"}},
		{"no lexicon dir", []string{"import", bad, "--category", "prohibited.gambling", "--lexicons", filepath.Join(dir, "nope")}, ExitUsage, []string{"not a directory"}},
		{"no subcommand", nil, ExitUsage, []string{"usage: govwatch lexicon import"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := lexiconRun(t, tt.args...)
			if code != tt.code {
				t.Errorf("status %d, want %d; stderr %q", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(lex); len(entries) != 0 {
		t.Errorf("a failed import wrote %v", entries)
	}
}

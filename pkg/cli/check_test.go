package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/textscan"
)

// checkLine is one line of `govwatch check --json`: its findings are the
// JSON contract textscan.Finding declares.
type checkLine struct {
	Source   string             `json:"source"`
	Findings []textscan.Finding `json:"findings"`
}

func runCheck(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(t.Context(), append([]string{"check"}, args...), IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// checkJSON checks text, given on stdin, with --json and args: the check
// must find something, and its one line of output is returned.
func checkJSON(t *testing.T, text string, args ...string) checkLine {
	t.Helper()
	code, out, errs := runCheck(t, text, append([]string{"--json"}, args...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, errs)
	}
	var doc checkLine
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	leak := writeFile(t, dir, "leak.txt", "第一行ＡＢＣ\n联系（＋８６）１３９-1234-5678，再接再励")
	clean := writeFile(t, dir, "clean.txt", "为进一步提升政务服务效能，现将有关事项通知如下。")
	typo := writeFile(t, dir, "typo.txt", "希望大家再接再励")
	badLex := filepath.Dir(writeFile(t, dir, "badlex/wording.typo.txt", "x\tsevere\n"))

	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   string
		jsonDocs int
	}{
		{name: "findings exit 1", args: []string{"--json", leak}, code: 1, jsonDocs: 1},
		{name: "clean exit 0", args: []string{"--json", clean}, code: 0, stdout: []string{`{"source":"` + clean + `","findings":[]}`}, jsonDocs: 1},
		{name: "one line per input", args: []string{"--json", clean, leak, typo}, code: 1, jsonDocs: 3},
		{name: "stdin", stdin: "卡号：6222021001123456789", args: []string{"--json", "-"}, code: 1, stdout: []string{`"source":"-"`, `"category":"privacy.bank_card"`}, jsonDocs: 1},
		{name: "stdin by default", stdin: "再接再励", args: []string{"--json"}, code: 1, stdout: []string{`"wording.typo"`}, jsonDocs: 1},
		{name: "min severity hides minor", args: []string{"--json", "--min-severity", "major", typo}, code: 0, stdout: []string{`"findings":[]`}, jsonDocs: 1},
		{name: "min severity keeps major", args: []string{"--json", "--min-severity", "major", leak}, code: 1, stdout: []string{`privacy.phone`}, jsonDocs: 1},
		{name: "human listing", args: []string{leak}, code: 1, stdout: []string{"隐私泄露：手机号码", "privacy.phone", "建议：", "共 2 处问题"}},
		{name: "human clean", args: []string{clean}, code: 0, stdout: []string{"未发现问题"}},
		{name: "unreadable input exit 2", args: []string{"--json", filepath.Join(dir, "missing.txt"), clean}, code: 2, stderr: "missing.txt", jsonDocs: 1},
		{name: "directory input exit 2", args: []string{dir}, code: 2, stderr: "is a directory"},
		{name: "bad severity exit 2", args: []string{"--min-severity", "high", clean}, code: 2, stderr: `--min-severity "high"`},
		{name: "bad flag exit 2", args: []string{"--nope", clean}, code: 2},
		{name: "missing lexicon dir exit 2", args: []string{"--lexicons", filepath.Join(dir, "nolex"), clean}, code: 2, stderr: "not a directory"},
		{name: "bad lexicon exit 2", args: []string{"--lexicons", badLex, clean}, code: 2, stderr: "wording.typo.txt:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCheck(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errs)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout %q lacks %q", out, s)
				}
			}
			if tt.stderr != "" && !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q lacks %q", errs, tt.stderr)
			}
			if tt.jsonDocs > 0 {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if len(lines) != tt.jsonDocs {
					t.Fatalf("got %d lines %q, want %d JSON objects", len(lines), out, tt.jsonDocs)
				}
				for _, l := range lines {
					var doc checkLine
					dec := json.NewDecoder(strings.NewReader(l))
					dec.DisallowUnknownFields()
					if err := dec.Decode(&doc); err != nil {
						t.Fatalf("line %q: %v", l, err)
					}
				}
			}
		})
	}
}

// TestCheckOffsets: start and end count code points of the original input,
// full-width and multi-byte characters included; line is 1-based.
func TestCheckOffsets(t *testing.T) {
	text := "第一行ＡＢＣ\n联系（＋８６）１３９-1234-5678，再接再励\n"
	doc := checkJSON(t, text)
	want := []struct {
		category, match  string
		start, end, line int
	}{
		{"privacy.phone", "（＋８６）１３９-1234-5678", 9, 27, 2},
		{"wording.typo", "再接再励", 28, 32, 2},
	}
	if len(doc.Findings) != len(want) {
		t.Fatalf("got %+v, want %d findings", doc.Findings, len(want))
	}
	runes := []rune(text)
	for k, w := range want {
		f := doc.Findings[k]
		if f.Category != w.category || f.Match != w.match || f.Start != w.start || f.End != w.end || f.Line != w.line {
			t.Errorf("finding %d: got %s %q [%d,%d) line %d, want %s %q [%d,%d) line %d",
				k, f.Category, f.Match, f.Start, f.End, f.Line, w.category, w.match, w.start, w.end, w.line)
		}
		if got := string(runes[f.Start:f.End]); got != f.Match {
			t.Errorf("finding %d: runes[%d:%d] = %q, want %q", k, f.Start, f.End, got, f.Match)
		}
		if f.Severity == "" || f.Rule == "" || f.Suggestion == "" {
			t.Errorf("finding %d lacks severity, rule or suggestion: %+v", k, f)
		}
	}
}

// TestCheckLargeInput streams an input of several chunks: offsets and lines
// stay right across chunk boundaries.
func TestCheckLargeInput(t *testing.T) {
	line := "为进一步提升政务服务效能，现将有关事项通知如下。群众可通过“闽政通”APP在线办理。\n"
	var b strings.Builder
	for b.Len() < 3<<20 {
		b.WriteString(line)
	}
	prefix := b.String()
	doc := checkJSON(t, prefix+"最后一行：再接再励\n")
	if len(doc.Findings) != 1 {
		t.Fatalf("got %+v, want one finding", doc.Findings)
	}
	f := doc.Findings[0]
	wantStart := len([]rune(prefix)) + 5
	wantLine := strings.Count(prefix, "\n") + 1
	if f.Start != wantStart || f.End != wantStart+4 || f.Line != wantLine {
		t.Errorf("got [%d,%d) line %d, want [%d,%d) line %d", f.Start, f.End, f.Line, wantStart, wantStart+4, wantLine)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "引号\"与\\反斜杠", "换行\n\r\t", "\x00\x1f", "bad \xff utf8", "\u2028\u2029", "全角ＡＢＣ"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	}
}

package textscan

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/govwatch/govwatch/configs/lexicons"
)

// FuzzLexiconFile reads fuzzed bytes as each kind of lexicon file, seeded
// with the shipped files. A file that loads has entries placed on its own
// lines, each term as written there; one that does not names file:line for
// every problem.
func FuzzLexiconFile(f *testing.F) {
	names, err := fs.Glob(lexicons.FS, "*.txt")
	if err != nil || len(names) == 0 {
		f.Fatalf("shipped lexicons: %v %v", names, err)
	}
	for i, name := range names {
		data, err := fs.ReadFile(lexicons.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), data)
	}
	f.Add(uint8(0), []byte("# comment\n\n"))
	f.Add(uint8(3), []byte("术语\tcritical\t建议\n\xff\xfe\n"))
	problem := regexp.MustCompile(`^[a-z.]+\.txt(:\d+)?: `)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		lex, err := LoadLexicon(fstest.MapFS{name: {Data: data}})
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "lexicon: ")
			for _, p := range strings.Split(msg, "; ") {
				if !problem.MatchString(p) {
					t.Fatalf("problem %q does not start with %s:line", p, name)
				}
			}
			return
		}
		lines := bytes.Split(data, []byte("\n"))
		for _, list := range [][]Entry{lex.Entries, lex.Allow, lex.Protected, lex.Enumerations, lex.Leaders} {
			for _, e := range list {
				if e.File != name || e.Line < 1 || e.Line > len(lines) {
					t.Fatalf("entry %+v is not on a line of %s (%d lines)", e, name, len(lines))
				}
				if e.Term == "" || !strings.Contains(string(lines[e.Line-1]), e.Term) {
					t.Fatalf("entry %+v: term not found on its line %q", e, lines[e.Line-1])
				}
			}
		}
		if lex.Version == "" {
			t.Fatal("loaded lexicon without a version")
		}
	})
}

// FuzzCheckRequest posts fuzzed bodies to POST /api/v1/check over the
// shipped lexicons. Every answer is JSON: 400 or 413 with an error, or 200
// with at most MaxCheckFindings findings whose offsets and matches are
// those of the text sent.
func FuzzCheckRequest(f *testing.F) {
	e := testEngine(f)
	h := CheckHandler(func() *Engine { return e })
	for _, s := range []string{
		`{"text": "联系电话13800138000，身份证号11010519491231002X"}`,
		`{"text": "内部资料 请勿外传", "min_severity": "critical"}`,
		`{"text": "", "min_severity": "major"}`,
		`{"text": "a", "colour": "red"}`,
		`{"text": 1}`,
		`[]`,
		`{"text": "\u0000\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/check", bytes.NewReader(body)))
		switch rec.Code {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var answer struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Error == "" {
				t.Fatalf("status %d with body %q, want {\"error\": …}", rec.Code, rec.Body)
			}
			return
		case http.StatusOK:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var req CheckRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("answered 200 to a body that is not a request: %v", err)
		}
		var resp CheckResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
		if len(resp.Findings) > MaxCheckFindings {
			t.Fatalf("%d findings, want at most %d", len(resp.Findings), MaxCheckFindings)
		}
		text := []rune(req.Text)
		for _, f := range resp.Findings {
			if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
				t.Fatalf("finding %+v outside the text's %d code points", f, len(text))
			}
			// JSON carries invalid UTF-8 as U+FFFD both ways.
			if want := string(text[f.Start:f.End]); f.Match != want && utf8.ValidString(req.Text) {
				t.Fatalf("finding %+v: match is not the text %q between start and end", f, want)
			}
		}
	})
}

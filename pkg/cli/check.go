package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/govwatch/govwatch/configs/lexicons"
	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// DefaultLexicons is the lexicon directory `govwatch check` reads when it
// exists under the working directory; otherwise the copy embedded in the
// binary is used. (The analyzer reads analyzer.lexicons instead.)
const DefaultLexicons = "configs/lexicons"

// lexiconFS returns the lexicon files of dir, or of DefaultLexicons when
// dir is empty and that exists, or else the embedded defaults.
func lexiconFS(dir string) fs.FS {
	if dir != "" {
		return os.DirFS(dir)
	}
	if st, err := os.Stat(DefaultLexicons); err == nil && st.IsDir() {
		return os.DirFS(DefaultLexicons)
	}
	return lexicons.FS
}

const checkUsage = `usage: govwatch check [--json] [--min-severity minor|major|critical] [--lexicons DIR] [--allow FILE] [FILE…|-]

Checks drafts before publishing for prohibited content, state-secret marks,
personal data, wording errors and forced engagement. Reads standard input
when no FILE (or -) is given. --allow reads allow entries as the notifier's
GET /api/v1/findings/allow answers them and drops the findings that those
with scope everywhere match. Exit status: 0 no finding at or above
--min-severity, 1 some, 2 bad usage or unreadable input.
`

// checkCmd is `govwatch check`.
func checkCmd(args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch check", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	fs.Usage = func() { fmt.Fprint(io.Stderr, checkUsage) }
	asJSON := fs.Bool("json", false, "one JSON object per input")
	minSev := fs.String("min-severity", model.SeverityMinor, "report findings at or above minor, major or critical")
	lexDir := fs.String("lexicons", "", "lexicon directory (default "+DefaultLexicons+" if present, else built in)")
	allowFile := fs.String("allow", "", "JSON file of allow entries (GET /api/v1/findings/allow); those with scope everywhere apply")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	min, err := model.MinSeverityRank(*minSev)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch check: --min-severity %v\n", err)
		return ExitUsage
	}
	if *lexDir != "" {
		if st, err := os.Stat(*lexDir); err != nil || !st.IsDir() {
			fmt.Fprintf(io.Stderr, "govwatch check: --lexicons %s: not a directory\n", *lexDir)
			return ExitUsage
		}
	}
	allowed, err := readAllowFile(*allowFile)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch check: --allow %v\n", err)
		return ExitUsage
	}
	// A short-lived batch tool: trade memory for less collection while the
	// lexicon is compiled and large inputs stream through.
	debug.SetGCPercent(200)
	lex, err := textscan.LoadLexicon(lexiconFS(*lexDir))
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch check: %v\n", err)
		return ExitUsage
	}
	eng, err := textscan.NewEngine(lex, nil)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch check: lexicon: %v\n", err)
		return ExitUsage
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := bufio.NewWriterSize(io.Stdout, 256<<10)
	defer out.Flush()
	status := ExitOK
	for _, name := range inputs {
		n, err := checkOne(eng, name, io.Stdin, out, *asJSON, min, allowed)
		switch {
		case err != nil:
			out.Flush()
			fmt.Fprintf(io.Stderr, "govwatch check: %v\n", err)
			status = ExitUsage
		case n > 0 && status == ExitOK:
			status = ExitProblem
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(io.Stderr, "govwatch check: %v\n", err)
		return ExitUsage
	}
	return status
}

// checkOne scans one input and writes its report; it returns the number of
// findings at or above min.
func checkOne(eng *textscan.Engine, name string, stdin io.Reader, out *bufio.Writer, asJSON bool, min int, allowed []allow.Entry) (int, error) {
	var r io.Reader = stdin
	source := name
	if name == "-" {
		source = "-"
		if stdin == nil {
			return 0, errors.New("no standard input")
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return 0, fmt.Errorf("%s: is a directory", name)
		}
		r = f
	}
	n := 0
	var buf []byte
	if asJSON {
		buf = append(buf, `{"source":`...)
		buf = appendJSONString(buf, source)
		buf = append(buf, `,"findings":[`...)
	}
	err := eng.ScanReader(r, func(f *textscan.Finding) error {
		if model.SeverityRank(f.Severity) < min || slices.ContainsFunc(allowed, func(e allow.Entry) bool { return e.Matches(f) }) {
			return nil
		}
		if asJSON {
			if n > 0 {
				buf = append(buf, ',')
			}
			buf = appendFinding(buf, f)
		} else {
			if n == 0 {
				buf = fmt.Appendf(buf, "%s:\n", source)
			}
			buf = fmt.Appendf(buf, "  %s:%d  [%s] %s（%s） 第 %d–%d 字  「%s」  规则：%s\n      建议：%s\n",
				source, f.Line, severityName(f.Severity), model.CategoryName(f.Category), f.Category,
				f.Start, f.End, f.Match, f.Rule, f.Suggestion)
		}
		n++
		if len(buf) >= 64<<10 {
			if _, err := out.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	})
	if err != nil {
		if !asJSON {
			out.Write(buf) //nolint:errcheck // the read error is what gets reported
		}
		return 0, fmt.Errorf("%s: %w", source, err)
	}
	if asJSON {
		buf = append(buf, "]}\n"...)
	} else if n == 0 {
		buf = fmt.Appendf(buf, "%s: 未发现问题 (no findings)\n", source)
	} else {
		buf = fmt.Appendf(buf, "%s: 共 %d 处问题 (%d findings)\n", source, n, n)
	}
	_, err = out.Write(buf)
	return n, err
}

// readAllowFile returns the entries of name with scope everywhere: a draft
// belongs to no post, account or unit yet. No name, no entries.
func readAllowFile(name string) ([]allow.Entry, error) {
	if name == "" {
		return nil, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := allow.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return slices.DeleteFunc(all, func(e allow.Entry) bool { return e.Scope != allow.ScopeEverywhere }), nil
}

func severityName(s string) string {
	switch s {
	case model.SeverityCritical:
		return "严重 critical"
	case model.SeverityMajor:
		return "较重 major"
	case model.SeverityMinor:
		return "一般 minor"
	}
	return s
}

// appendFinding appends f as the JSON object of the check contract.
func appendFinding(b []byte, f *textscan.Finding) []byte {
	b = append(b, `{"category":`...)
	b = appendJSONString(b, f.Category)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, f.Severity)
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, f.Rule)
	b = append(b, `,"match":`...)
	b = appendJSONString(b, f.Match)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(f.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(f.End), 10)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(f.Line), 10)
	b = append(b, `,"suggestion":`...)
	b = appendJSONString(b, f.Suggestion)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += w
			start = i
			continue
		}
		i += w
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

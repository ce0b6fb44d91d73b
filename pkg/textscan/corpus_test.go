package textscan

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	ctlcorpus "github.com/govwatch/govwatch/configs/controls"
	"github.com/govwatch/govwatch/pkg/model"
)

// corpusDir holds the forms every check must catch (positives/<category>.tsv,
// text<TAB>category a line); see its README.md. The real government writing
// that must stay quiet is configs/controls (one sentence a line), built into
// the binary for `govwatch lexicon import`.
const corpusDir = "testdata/corpus"

// The corpus is only a measure when it is large; these guard against a
// file going missing or a format change reading nothing.
const (
	minControlSentences = 2000
	minPositives        = 150
)

// corpusLine is one line of a corpus file with where it came from.
type corpusLine struct {
	file string // path under the package directory
	line int
	text string
}

func (l corpusLine) pos() string { return fmt.Sprintf("%s:%d", l.file, l.line) }

// readCorpus returns the lines of the files of fsys (named dir in
// messages) matching pattern, skipping blank lines and # comments.
func readCorpus(t *testing.T, fsys fs.FS, dir, pattern string) []corpusLine {
	t.Helper()
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		t.Fatal(err)
	}
	var lines []corpusLine
	for _, name := range files {
		f, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			text := sc.Text()
			if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
				continue
			}
			lines = append(lines, corpusLine{path.Join(dir, name), n, text})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return lines
}

// TestCorpus scans the shipped lexicons over real government writing and
// over collected and constructed positives: every positive must be found
// with its expected category, and no control sentence may carry a finding
// at major or above. It logs the recall per category and every false alarm.
func TestCorpus(t *testing.T) {
	e := testEngine(t)
	major := model.SeverityRank(model.SeverityMajor)

	controls := readCorpus(t, ctlcorpus.FS, "configs/controls", "*.txt")
	if len(controls) < minControlSentences {
		t.Fatalf("%d control sentences under configs/controls, want at least %d", len(controls), minControlSentences)
	}
	var alarms []string
	alarmed := 0
	for _, c := range controls {
		hit := false
		for _, f := range e.Scan(c.text) {
			if model.SeverityRank(f.Severity) < major {
				continue
			}
			hit = true
			alarms = append(alarms, fmt.Sprintf("%s: %s %s rule %q over %q in %q", c.pos(), f.Category, f.Severity, f.Rule, f.Match, c.text))
		}
		if hit {
			alarmed++
		}
	}

	positives := readCorpus(t, os.DirFS(corpusDir), corpusDir, "positives/*.tsv")
	if len(positives) < minPositives {
		t.Fatalf("%d positives under %s/positives, want at least %d", len(positives), corpusDir, minPositives)
	}
	type tally struct{ found, total int }
	recall := map[string]*tally{}
	var misses []string
	for _, p := range positives {
		text, want, ok := strings.Cut(p.text, "\t")
		if !ok || want == "" || strings.Contains(want, "\t") {
			t.Errorf("%s: want text<TAB>category, got %q", p.pos(), p.text)
			continue
		}
		if file := strings.TrimSuffix(path.Base(p.file), ".tsv"); want != file {
			t.Errorf("%s: category %q in the file of %q", p.pos(), want, file)
		}
		r := recall[want]
		if r == nil {
			r = &tally{}
			recall[want] = r
		}
		r.total++
		got := e.Scan(text)
		if slices.ContainsFunc(got, func(f Finding) bool { return f.Category == want }) {
			r.found++
			continue
		}
		var found []string
		for _, f := range got {
			found = append(found, fmt.Sprintf("%s %q", f.Category, f.Match))
		}
		misses = append(misses, fmt.Sprintf("%s: not found as %s in %q (found: %s)", p.pos(), want, text, orNone(found)))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-22s %7s %7s %7s\n", "category", "found", "total", "recall")
	cats := make([]string, 0, len(recall))
	for c := range recall {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	var found, total int
	for _, c := range cats {
		r := recall[c]
		found += r.found
		total += r.total
		fmt.Fprintf(&b, "%-22s %7d %7d %6.1f%%\n", c, r.found, r.total, 100*float64(r.found)/float64(r.total))
	}
	fmt.Fprintf(&b, "%-22s %7d %7d %6.1f%%\n", "all", found, total, 100*float64(found)/float64(total))
	fmt.Fprintf(&b, "control sentences: %d, with a finding at major or above: %d (%d findings)", len(controls), alarmed, len(alarms))
	t.Log(b.String())

	for _, m := range misses {
		t.Error(m)
	}
	for _, a := range alarms {
		t.Error(a)
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

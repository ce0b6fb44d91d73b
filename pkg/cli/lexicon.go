package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/govwatch/govwatch/configs/controls"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/textscan"
)

const lexiconUsage = `usage: govwatch lexicon import FILE --category C [--severity S] [--lexicons DIR] [--controls DIR] [--include-firing]

Imports a one-term-a-line list into DIR/C.txt (default ` + DefaultLexicons + `).
Before writing, every term is run over the control corpus of real government
writing (built in, or the *.txt files of --controls, one sentence a line):
terms that would fire on it are ordinary words of government text and are
left out, and listed, unless --include-firing; single characters are always
left out. Nothing is written when FILE has a problem; each is named with
FILE:line. Exit status: 0 imported, 1 a problem with FILE, 2 bad usage.
`

// lexiconCmd is `govwatch lexicon`.
func lexiconCmd(args []string, io IO) int {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprint(io.Stderr, lexiconUsage)
		return ExitUsage
	}
	flags := flag.NewFlagSet("govwatch lexicon import", flag.ContinueOnError)
	flags.SetOutput(io.Stderr)
	flags.Usage = func() { fmt.Fprint(io.Stderr, lexiconUsage) }
	category := flags.String("category", "", "content category of the terms (prohibited.porn …)")
	severity := flags.String("severity", "", "minor, major or critical (default: the category's)")
	dir := flags.String("lexicons", DefaultLexicons, "lexicon directory to write into")
	controlDir := flags.String("controls", "", "directory of control texts (default: the built-in corpus)")
	includeFiring := flags.Bool("include-firing", false, "import terms that fire on the controls too")
	// FILE may stand before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := flags.Parse(rest); err != nil {
		return ExitUsage
	}
	if file == "" && flags.NArg() == 1 {
		file = flags.Arg(0)
	} else if flags.NArg() > 0 || file == "" {
		fmt.Fprint(io.Stderr, lexiconUsage)
		return ExitUsage
	}
	if *category == "" {
		fmt.Fprintln(io.Stderr, "govwatch lexicon import: --category is required")
		return ExitUsage
	}
	switch *severity {
	case "", model.SeverityMinor, model.SeverityMajor, model.SeverityCritical:
	default:
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: --severity %q: want minor, major or critical\n", *severity)
		return ExitUsage
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: --lexicons %s: not a directory\n", *dir)
		return ExitUsage
	}
	var ctl fs.FS = controls.FS
	if *controlDir != "" {
		if st, err := os.Stat(*controlDir); err != nil || !st.IsDir() {
			fmt.Fprintf(io.Stderr, "govwatch lexicon import: --controls %s: not a directory\n", *controlDir)
			return ExitUsage
		}
		ctl = os.DirFS(*controlDir)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
		return ExitUsage
	}
	entries, err := textscan.ParseList(file, data, *category)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
		return ExitProblem
	}
	sentences, err := readControls(ctl)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: controls: %v\n", err)
		return ExitUsage
	}
	target := filepath.Join(*dir, *category+".txt")
	old, err := os.ReadFile(target)
	if err != nil && !os.IsNotExist(err) {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
		return ExitProblem
	}
	existing := existingTerms(old)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
		return ExitProblem
	}
	plan, err := planImport(entries, existing, *severity, sentences)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
		return ExitProblem
	}
	keep := plan.clean
	if *includeFiring {
		for _, f := range plan.firing {
			keep = append(keep, f.entry)
		}
	}
	if len(keep) > 0 {
		if err := appendTerms(target, old, file, keep); err != nil {
			fmt.Fprintf(io.Stderr, "govwatch lexicon import: %v\n", err)
			return ExitProblem
		}
	}
	plan.report(io, target, len(keep), len(sentences), *includeFiring)
	return ExitOK
}

// controlSentence is a line of the control corpus and where it stands.
type controlSentence struct {
	text, at string
}

// readControls reads every non-comment line of the *.txt files of fsys.
func readControls(fsys fs.FS) ([]controlSentence, error) {
	var out []controlSentence
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".txt") {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		for n, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, controlSentence{line, fmt.Sprintf("%s:%d", path, n+1)})
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("no sentences")
	}
	return out, err
}

// existingTerms are the terms a lexicon file's data already holds.
func existingTerms(data []byte) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		term, _, _ := strings.Cut(line, "\t")
		if term = strings.TrimSpace(term); term != "" && !strings.HasPrefix(term, "#") {
			out[textscan.Normalize(term)] = true
		}
	}
	return out
}

// importPlan is what an import would do.
type importPlan struct {
	clean   []textscan.Entry
	firing  []firingTerm
	singles []string
	dups    int
}

// firingTerm is a term that fires on the controls.
type firingTerm struct {
	entry   textscan.Entry
	count   int
	example controlSentence
}

// planImport sorts the entries into what is imported and what is left
// out: single characters, terms already in the file or the list, and terms
// that fire on the control sentences.
func planImport(entries []textscan.Entry, existing map[string]bool, severity string, controls []controlSentence) (*importPlan, error) {
	p := &importPlan{}
	seen := map[string]bool{}
	var candidates []textscan.Entry
	for _, e := range entries {
		key := textscan.Normalize(e.Term)
		switch {
		case utf8.RuneCountInString(key) < 2:
			p.singles = append(p.singles, e.Term)
		case existing[key] || seen[key]:
			p.dups++
		default:
			seen[key] = true
			if severity != "" {
				e.Severity = severity
			}
			candidates = append(candidates, e)
		}
	}
	eng, err := textscan.NewEngine(&textscan.Lexicon{Entries: candidates}, nil)
	if err != nil {
		return nil, err
	}
	fired := map[string]*firingTerm{}
	for _, s := range controls {
		for _, f := range eng.Scan(s.text) {
			if ft, ok := fired[f.Rule]; ok {
				ft.count++
			} else {
				fired[f.Rule] = &firingTerm{count: 1, example: s}
			}
		}
	}
	for _, e := range candidates {
		if ft, ok := fired[e.Term]; ok {
			ft.entry = e
			p.firing = append(p.firing, *ft)
		} else {
			p.clean = append(p.clean, e)
		}
	}
	slices.SortStableFunc(p.firing, func(a, b firingTerm) int { return b.count - a.count })
	return p, nil
}

// appendTerms writes the lexicon file path as old and entries after it,
// under a comment naming their source, to a temporary file renamed into
// place.
func appendTerms(path string, old []byte, source string, entries []textscan.Entry) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".import-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	w.Write(old) //nolint:errcheck // reported by Flush
	if len(old) > 0 && old[len(old)-1] != '\n' {
		w.WriteByte('\n') //nolint:errcheck // reported by Flush
	}
	fmt.Fprintf(w, "# imported from %s on %s: %d terms\n", filepath.Base(source), time.Now().Format(time.DateOnly), len(entries))
	for _, e := range entries {
		w.WriteString(e.Term) //nolint:errcheck // reported by Flush
		if e.Severity != "" && e.Severity != model.DefaultSeverity(e.Category) || e.Note != "" {
			fmt.Fprintf(w, "\t%s", e.Severity)
		}
		if e.Note != "" {
			fmt.Fprintf(w, "\t%s", e.Note)
		}
		w.WriteByte('\n') //nolint:errcheck // reported by Flush
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// report says what the import did and what it left out.
func (p *importPlan) report(io IO, target string, imported, controls int, includeFiring bool) {
	fmt.Fprintf(io.Stdout, "imported %d terms into %s", imported, target)
	if p.dups > 0 {
		fmt.Fprintf(io.Stdout, " (%d already there or repeated)", p.dups)
	}
	fmt.Fprintln(io.Stdout)
	if len(p.singles) > 0 {
		fmt.Fprintf(io.Stdout, "left out %d single characters: %s\n", len(p.singles), strings.Join(p.singles, " "))
	}
	if len(p.firing) == 0 {
		fmt.Fprintf(io.Stdout, "no term fires on the %d control sentences\n", controls)
		return
	}
	verb := "left out"
	if includeFiring {
		verb = "imported although they fire:"
	}
	fmt.Fprintf(io.Stdout, "%s %d terms that fire on the %d control sentences (ordinary words of government text):\n", verb, len(p.firing), controls)
	for _, f := range p.firing {
		fmt.Fprintf(io.Stdout, "  %s\t%s:%d\tfires %d times, e.g. %s: %s\n", f.entry.Term, f.entry.File, f.entry.Line, f.count, f.example.at, around(f.example.text, f.entry.Term))
	}
	if !includeFiring {
		fmt.Fprintln(io.Stdout, "import them with --include-firing after adding their ordinary contexts to allow.txt")
	}
}

// around shortens a control sentence to the 40 characters around the first
// place term stands in it (folded as the engine folds).
func around(sentence, term string) string {
	rs := []rune(sentence)
	if len(rs) <= 40 {
		return sentence
	}
	at := strings.Index(textscan.Normalize(sentence), textscan.Normalize(term))
	i := 0
	if at > 0 {
		i = utf8.RuneCountInString(textscan.Normalize(sentence)[:at])
	}
	from := max(0, min(i-15, len(rs)-40))
	out := string(rs[from : from+40])
	if from > 0 {
		out = "…" + out
	}
	if from+40 < len(rs) {
		out += "…"
	}
	return out
}

package textscan

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// Entry is one line of a lexicon.
type Entry struct {
	Category string // an alert category; empty for an allow-list entry
	Severity string
	Term     string // as written in the file
	Note     string // the suggestion shown with a finding (the correct form)
	File     string
	Line     int
}

// Source is where the entry was read: file:line.
func (e Entry) Source() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

// Lexicon is what a lexicon directory holds: terms by category, allow-list
// contexts, protected phrases and confusable characters for the near-miss
// detector.
type Lexicon struct {
	Entries   []Entry
	Allow     []Entry
	Protected []Entry // phrases whose one-character-off forms are wording.serious
	// Enumerations are named lists whose members are fixed (四个自信): the
	// Term is the name, the Note the members separated by 、.
	Enumerations []Entry
	// Leaders are the state's leaders: the Term is the name, the Note the
	// titles they hold, separated by 、.
	Leaders     []Entry
	Confusables []string // groups of characters confused by sound or shape
	Version     string   // a digest of the files
}

// lexiconCategories are the categories a `<category>.txt` file may name.
var lexiconCategories = map[string]bool{
	model.CategorySecretMarking: true, model.CategoryProhibitedPolitical: true,
	model.CategoryProhibitedViolence: true, model.CategoryProhibitedPorn: true,
	model.CategoryProhibitedGambling: true, model.CategoryProhibitedCult: true,
	model.CategoryWordingSerious: true, model.CategoryWordingTypo: true,
	model.CategoryWordingOutdated: true, model.CategoryEngagementForced: true,
	model.CategoryPrivacyPhone: true, model.CategoryPrivacyIDNumber: true,
	model.CategoryPrivacyBankCard: true,
}

// Special files of a lexicon directory.
const (
	fileAllow        = "allow.txt"
	fileProtected    = "protected.txt"
	fileConfusables  = "confusables.txt"
	fileEnumerations = "enumerations.txt"
	fileLeaders      = "leaders.txt"
)

// LoadLexicon reads every *.txt file of fsys's root directory:
//
//   - <category>.txt: one term per line, optionally followed by a tab, a
//     severity (minor, major, critical; empty for the category's default), a
//     tab and a note (the correct form, shown as the suggestion);
//   - allow.txt and <anything>.allow.txt: contexts that suppress any finding
//     inside them (揭批“法轮功”邪教);
//   - protected.txt: official formulations and names whose forms one
//     character off by sound or shape are wording.serious findings;
//   - confusables.txt: one group of mutually confusable characters per line;
//   - enumerations.txt: a named enumeration, a severity and its members
//     separated by 、 (四个自信	critical	道路自信、理论自信、制度自信、文化自信):
//     a text that names it and lists a wrong or missing member is
//     wording.serious;
//   - leaders.txt: a leader's name, a severity and the titles the leader
//     holds separated by 、: a title of another leader next to the name, or
//     the name misspelt by sound after one of its titles, is wording.serious.
//
// Blank lines and lines starting with # are ignored. Every problem is
// reported with file:line.
func LoadLexicon(fsys fs.FS) (*Lexicon, error) {
	names, err := fs.Glob(fsys, "*.txt")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	lex := &Lexicon{}
	// The version only tells lexicon sets apart: two hardware-assisted
	// CRC-32s rather than a cryptographic digest, which costs more than
	// parsing the files.
	hc, hi := crc32.New(crc32.MakeTable(crc32.Castagnoli)), crc32.NewIEEE()
	h := io.MultiWriter(hc, hi)
	var problems []string
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("lexicon %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data) //nolint:errcheck // hashes do not fail
		problems = append(problems, lex.parse(name, data)...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("lexicon: %s", strings.Join(problems, "; "))
	}
	lex.Version = fmt.Sprintf("%08x%08x", hc.Sum32(), hi.Sum32())
	return lex, nil
}

// ParseList reads a one-term-a-line list of category (as a
// <category>.txt lexicon file is read) and returns its entries, or every
// problem with file:line.
func ParseList(file string, data []byte, category string) ([]Entry, error) {
	if !lexiconCategories[category] {
		return nil, fmt.Errorf("%q is not a content category", category)
	}
	lex := &Lexicon{}
	if problems := lex.parseAs(file, "terms", category, data); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return lex.Entries, nil
}

func (lex *Lexicon) parse(name string, data []byte) []string {
	category := strings.TrimSuffix(name, ".txt")
	kind := "terms"
	switch {
	case name == fileAllow || strings.HasSuffix(name, ".allow.txt"):
		kind = "allow"
	case name == fileProtected:
		kind = "protected"
	case name == fileConfusables:
		kind = "confusables"
	case name == fileEnumerations:
		kind = "enumerations"
	case name == fileLeaders:
		kind = "leaders"
	case !lexiconCategories[category]:
		return []string{fmt.Sprintf("%s: %q is not a content category", name, category)}
	}
	return lex.parseAs(name, kind, category, data)
}

// parseAs reads the lines of file name as a file of kind (terms, allow,
// protected, confusables, enumerations, leaders); terms are of category.
func (lex *Lexicon) parseAs(name, kind, category string, data []byte) []string {
	var problems []string
	text := string(data)
	if kind == "terms" {
		lex.Entries = slices.Grow(lex.Entries, strings.Count(text, "\n")+1)
	}
	for n := 1; len(text) > 0; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimRight(line, " \r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if trimmed := strings.TrimSpace(line); trimmed == "" || trimmed[0] == '#' {
			continue
		}
		where := func() string { return fmt.Sprintf("%s:%d", name, n) }
		if !utf8.ValidString(line) {
			problems = append(problems, where()+": not UTF-8")
			continue
		}
		fields := [3]string{line}
		nf := 1
		for nf < 4 {
			t := strings.IndexByte(fields[nf-1], '\t')
			if t < 0 {
				break
			}
			if nf == 3 {
				nf++
				break
			}
			fields[nf-1], fields[nf] = fields[nf-1][:t], fields[nf-1][t+1:]
			nf++
		}
		if nf > 3 {
			problems = append(problems, where()+": more than 3 tab-separated fields, want term[\tseverity[\tnote]]")
			continue
		}
		e := Entry{Term: strings.TrimSpace(fields[0]), File: name, Line: n}
		if nf > 1 {
			e.Severity = strings.TrimSpace(fields[1])
		}
		if nf > 2 {
			e.Note = strings.TrimSpace(fields[2])
		}
		if e.Term == "" {
			problems = append(problems, where()+": empty term")
			continue
		}
		switch kind {
		case "confusables":
			lex.Confusables = append(lex.Confusables, e.Term)
			continue
		case "allow":
			lex.Allow = append(lex.Allow, e)
			continue
		case "protected":
			e.Category = model.CategoryWordingSerious
		case "enumerations":
			e.Category = model.CategoryWordingSerious
			if members := strings.Split(e.Note, "、"); len(members) < 2 || slices.Contains(members, "") {
				problems = append(problems, where()+": an enumeration needs two or more members after the second tab, separated by 、")
				continue
			}
		case "leaders":
			e.Category = model.CategoryWordingSerious
			if titles := strings.Split(e.Note, "、"); e.Note == "" || slices.Contains(titles, "") {
				problems = append(problems, where()+": a leader needs one or more titles after the second tab, separated by 、")
				continue
			}
		default:
			e.Category = category
		}
		switch e.Severity {
		case "":
			e.Severity = model.DefaultSeverity(e.Category)
		case model.SeverityMinor, model.SeverityMajor, model.SeverityCritical:
		default:
			problems = append(problems, fmt.Sprintf("%s: unknown severity %q (minor, major or critical)", where(), e.Severity))
			continue
		}
		switch kind {
		case "protected":
			lex.Protected = append(lex.Protected, e)
		case "enumerations":
			lex.Enumerations = append(lex.Enumerations, e)
		case "leaders":
			lex.Leaders = append(lex.Leaders, e)
		default:
			lex.Entries = append(lex.Entries, e)
		}
	}
	return problems
}

// nearMisses returns the wording.serious entries for the forms of the
// short protected phrases one character off: each character replaced by
// another of its confusable group. Longer phrases are matched by sound
// and shape (sound.go).
func (lex *Lexicon) nearMisses() []Entry {
	group := map[rune][]rune{}
	for _, g := range lex.Confusables {
		rs := []rune(Normalize(g))
		for _, r := range rs {
			for _, o := range rs {
				if o != r {
					group[r] = append(group[r], o)
				}
			}
		}
	}
	protected := map[string]bool{}
	for _, p := range lex.Protected {
		protected[Normalize(p.Term)] = true
	}
	var out []Entry
	for _, p := range lex.Protected {
		rs := []rune(Normalize(p.Term))
		if maxAlike(len(rs)) > 0 {
			continue // the sound matcher's (sound.go)
		}
		for i, r := range rs {
			for _, o := range group[r] {
				v := make([]rune, len(rs))
				copy(v, rs)
				v[i] = o
				if protected[string(v)] {
					continue
				}
				out = append(out, Entry{
					Category: model.CategoryWordingSerious, Severity: p.Severity,
					Term: string(v), Note: "应为“" + p.Term + "”", File: p.File, Line: p.Line,
				})
			}
		}
	}
	return out
}

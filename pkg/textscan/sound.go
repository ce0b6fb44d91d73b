package textscan

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"

	"github.com/govwatch/govwatch/pkg/model"
)

// Errors by sound and shape: a protected formulation written with one or
// more characters that read the same (tone aside, any reading of a
// polyphone: 主义/注意) or look the same (confusables.txt) is a
// wording.serious finding. Longer formulations allow more such characters:
// maxAlike gives how many.
//
// The matcher rides on the term trie. Each formulation is cut into
// maxAlike+1 consecutive segments, and every segment is an anchor term: a
// span with at most maxAlike wrong characters leaves at least one segment
// whole, so every such span contains an anchor. When the walk passes an
// anchor, the span the formulation would cover there is compared
// character by character; nothing else of the text is read twice.

// maxAlike is how many characters of a formulation of n characters may
// differ by sound or shape and still be read as that formulation.
// Formulations shorter than minSoundLen are left to the one-character
// table of confusables (nearMisses): too many ordinary words sound like
// a two- or three-character phrase.
func maxAlike(n int) int {
	switch {
	case n < minSoundLen:
		return 0
	case n <= 6:
		return 1
	case n <= 14:
		return 2
	}
	return 3
}

const minSoundLen = 4

// formulation is a protected phrase as the sound matcher compares it.
type formulation struct {
	entry Entry
	chars []rune // folded characters
}

// anchorRef places an anchor segment in a formulation, or names an
// enumeration.
type anchorRef struct {
	form   int32 // index into soundMatcher.forms
	offset int32 // the segment's first character in the formulation
	enum   int32 // 1 + index into soundMatcher.enums, or 0
	spam   int32 // 1 + the kind of a spam signal (spam.go), or 0
	leader int32 // 1 + index into soundMatcher.leaders of a name (leaders.go), or 0
	title  int32 // 1 + index into soundMatcher.titles (leaders.go), or 0
}

// soundMatcher holds the formulations and what each anchor stands for.
type soundMatcher struct {
	forms      []formulation
	anchors    [][]anchorRef // anchor group → the segments it stands for
	anchorText []string      // anchor group → its text, folded
	enums      []enumeration
	leaders    []leader
	titles     []title
	titleOf    map[string]int32 // a title, folded → index into titles
	exact      map[string]bool  // every protected formulation, folded
	confusing  map[[2]rune]bool
}

// anchorHit is an anchor passed by the walk: the segment's text starts at
// byte at.
type anchorHit struct {
	group   int32
	at, end int
}

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal // no tones
	a.Heteronym = true      // every reading of a polyphone
	return a
}()

// readings are the toneless pinyin readings of the folded character c,
// each in its loose form (loose). The library strips tones with regular
// expressions, far too slow for a scan, so each character's readings are
// worked out once per process and kept.
func readings(c rune) []string {
	if v, ok := readingCache.Load(c); ok {
		return v.([]string)
	}
	rs := pinyin.SinglePinyin(c, pinyinArgs)
	for i, r := range rs {
		rs[i] = loose(r)
	}
	v, _ := readingCache.LoadOrStore(c, rs)
	return v.([]string)
}

// readingCache maps a character to its readings; it holds at most the
// characters of the pinyin dictionary (about 41,000).
var readingCache sync.Map

// loose folds the distinctions many speakers, and so many typists, do not
// make: retroflex and flat initials (zh/z, ch/c, sh/s), n/l, and front
// and back nasals (in/ing, en/eng, an/ang). 意识 and 意思 read alike.
func loose(r string) string {
	switch {
	case strings.HasPrefix(r, "zh"), strings.HasPrefix(r, "ch"), strings.HasPrefix(r, "sh"):
		r = r[:1] + r[2:]
	case strings.HasPrefix(r, "l"):
		r = "n" + r[1:]
	}
	if strings.HasSuffix(r, "ng") && len(r) > 2 && r != "ng" {
		r = r[:len(r)-1]
	}
	return r
}

// foldChars folds s to the characters the matcher compares, dropping
// zero-width characters; ok is false when s holds noise or a line break.
func foldChars(s string) ([]rune, bool) {
	out := make([]rune, 0, len(s)/3)
	for _, r := range s {
		c, class := fold(r)
		switch class {
		case classDrop:
			continue
		case classChar:
			out = append(out, c)
		default:
			return nil, false
		}
	}
	return out, true
}

// newSoundMatcher prepares the formulations of lex long enough to be
// matched by sound, and returns the anchor segments to put in the trie,
// each with the group it belongs to.
func newSoundMatcher(lex *Lexicon) (*soundMatcher, []Entry) {
	m := &soundMatcher{exact: map[string]bool{}, confusing: map[[2]rune]bool{}}
	for _, g := range lex.Confusables {
		rs, _ := foldChars(g)
		for _, a := range rs {
			for _, b := range rs {
				if a != b {
					m.confusing[[2]rune{a, b}] = true
				}
			}
		}
	}
	groupOf := map[string]int32{}
	var anchors []Entry
	anchor := func(seg string, p Entry, ref anchorRef) {
		g, seen := groupOf[seg]
		if !seen {
			g = int32(len(m.anchors))
			groupOf[seg] = g
			m.anchors = append(m.anchors, nil)
			m.anchorText = append(m.anchorText, seg)
			anchors = append(anchors, Entry{Term: seg, Category: p.Category, Severity: p.Severity, File: p.File, Line: p.Line})
		}
		m.anchors[g] = append(m.anchors[g], ref)
	}
	entries, kinds := spamEntries()
	for i, p := range entries {
		rs, _ := foldChars(p.Term)
		anchor(string(rs), p, anchorRef{spam: int32(kinds[i]) + 1})
	}
	m.addLeaders(lex.Leaders, anchor)
	for _, p := range lex.Enumerations {
		if en, ok := newEnumeration(p); ok {
			m.enums = append(m.enums, en)
			anchor(string(en.name), p, anchorRef{enum: int32(len(m.enums))})
		}
	}
	for _, p := range lex.Protected {
		chars, ok := foldChars(p.Term)
		if !ok {
			continue
		}
		m.exact[string(chars)] = true
		k := maxAlike(len(chars))
		if k == 0 {
			continue
		}
		f := formulation{entry: p, chars: chars}
		form := int32(len(m.forms))
		m.forms = append(m.forms, f)
		// k+1 segments as even as the length allows.
		segs := k + 1
		for s := 0; s < segs; s++ {
			lo, hi := s*len(chars)/segs, (s+1)*len(chars)/segs
			anchor(string(chars[lo:hi]), p, anchorRef{form: form, offset: int32(lo)})
		}
	}
	return m, anchors
}

// alike reports whether text character c may stand for the formulation's
// character at i: it reads the same or is listed as confusable with it.
func (m *soundMatcher) alike(f *formulation, i int, c rune) bool {
	return m.alikeChars(c, f.chars[i])
}

// textSpan is a stretch of the text as the matcher compares it: folded
// characters and the byte offset where each starts (one more for the end).
type textSpan struct {
	chars []rune
	at    []int
}

// back returns the byte offset n characters before i, skipping zero-width
// characters, or -1 when noise, a line break or the start of text comes
// first.
func back(text string, i, n int) int {
	for n > 0 {
		if i == 0 {
			return -1
		}
		r, w := utf8.DecodeLastRuneInString(text[:i])
		i -= w
		switch _, class := fold(r); class {
		case classChar:
			n--
		case classDrop:
		default:
			return -1
		}
	}
	return i
}

// read fills sp with the n characters from byte i, or reports false.
func read(text string, i, n int, sp *textSpan) bool {
	sp.chars, sp.at = sp.chars[:0], sp.at[:0]
	for len(sp.chars) < n {
		if i >= len(text) {
			return false
		}
		r, w := utf8.DecodeRuneInString(text[i:])
		c, class := fold(r)
		switch class {
		case classChar:
			sp.chars = append(sp.chars, c)
			sp.at = append(sp.at, i)
		case classDrop:
		default:
			return false
		}
		i += w
	}
	sp.at = append(sp.at, i)
	return true
}

// resolveSound turns the anchors a scan passed into findings: each span a
// formulation would cover around an anchor, written differently but alike
// in at most maxAlike characters and not itself a protected formulation.
// Where such spans overlap, the longest (then the first) is the finding,
// and none is reported over a wording finding of the lexicon.
func (e *Engine) resolveSound(sc *scratch, text string) {
	if len(sc.anchors) == 0 {
		return
	}
	m := e.sound
	var sp textSpan
	cands, exact := sc.sound[:0], sc.exact[:0]
	sc.spam = sc.spam[:0]
	for _, a := range sc.anchors {
		for _, ref := range m.anchors[a.group] {
			if ref.spam > 0 {
				if wholeLatin(text, a.at, a.end) {
					sc.spam = append(sc.spam, spamSignal{kind: int(ref.spam - 1), at: a.at, end: a.end, text: m.anchorText[a.group]})
				}
				continue
			}
			if ref.leader > 0 {
				e.checkLeaderTitle(sc, text, a.at, a.end, &m.leaders[ref.leader-1])
				continue
			}
			if ref.title > 0 {
				e.checkLeaderName(sc, text, a.end, &m.titles[ref.title-1])
				continue
			}
			if ref.enum > 0 {
				e.checkEnumeration(sc, text, a.at, &m.enums[ref.enum-1])
				continue
			}
			f := &m.forms[ref.form]
			start := back(text, a.at, int(ref.offset))
			if start < 0 || !read(text, start, len(f.chars), &sp) {
				continue
			}
			c := soundCandidate{form: ref.form, start: start, end: sp.at[len(sp.chars)]}
			if slices.Contains(cands, c) {
				continue
			}
			switch diff := m.differences(f, sp.chars); {
			case diff == 0:
				exact = append(exact, c)
			case diff > 0 && !m.exact[string(sp.chars)]:
				cands = append(cands, c)
			}
		}
	}
	slices.SortFunc(cands, func(a, b soundCandidate) int {
		if d := len(m.forms[b.form].chars) - len(m.forms[a.form].chars); d != 0 {
			return d
		}
		return a.start - b.start
	})
	for _, c := range cands {
		// Inside a formulation written right (中国特色社会主义思想 in
		// 习近平新时代中国特色社会主义思想) nothing is a near miss.
		if e.covered(sc.hits, c.start, c.end) || slices.ContainsFunc(exact, func(x soundCandidate) bool { return x.start <= c.start && c.end <= x.end }) {
			continue
		}
		f := &m.forms[c.form]
		sc.hits = append(sc.hits, hit{start: c.start, end: c.end, term: -1, f: Finding{
			Category: model.CategoryWordingSerious, Severity: f.entry.Severity, Rule: f.entry.Term,
			Suggestion: "应为“" + f.entry.Term + "”",
		}})
		sc.unsorted = true
	}
	sc.sound, sc.exact = cands, exact
	e.resolveSpam(sc, text)
}

// wholeLatin reports whether text[at:end] does not continue into ASCII
// letters or digits where it starts or ends with one: ag is not a signal
// inside against.
func wholeLatin(text string, at, end int) bool {
	if isASCIIAlnum(text[at]) && at > 0 && isASCIIAlnum(text[at-1]) {
		return false
	}
	return !(isASCIIAlnum(text[end-1]) && end < len(text) && isASCIIAlnum(text[end]))
}

// differences counts the characters of chars (as long as f) that differ
// from f's, or returns -1 when they are too many or not alike: at most
// maxAlike, each reading or looking like the one it replaces — or, in a
// formulation of 7 or more characters, a single character of any kind with
// all the others right (中共人民共和国, 中华人民大和国: the rest pins it
// down).
func (m *soundMatcher) differences(f *formulation, chars []rune) int {
	diff, unlike, k := 0, 0, maxAlike(len(f.chars))
	for i, c := range chars {
		if c == f.chars[i] {
			continue
		}
		if diff++; diff > k {
			return -1
		}
		if !m.alike(f, i, c) {
			unlike++
		}
	}
	if unlike > 0 && (diff > 1 || len(f.chars) < 7) {
		return -1
	}
	return diff
}

// soundCandidate is a span alike to formulation form, in bytes.
type soundCandidate struct {
	form       int32
	start, end int
}

// covered reports whether a wording finding of the lexicon already stands
// over start..end, so one error is not reported twice.
func (e *Engine) covered(hits []hit, start, end int) bool {
	for i := range hits {
		h := &hits[i]
		if h.start >= end || start >= h.end {
			continue
		}
		category := h.f.Category
		if h.term >= 0 {
			category = e.terms[h.term].Category
		}
		if strings.HasPrefix(category, "wording.") {
			return true
		}
	}
	return false
}

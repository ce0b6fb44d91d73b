package textscan

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// hit is a finding before offsets become code points: byte offsets into
// the scanned text and either a lexicon term or a Finding whose offsets,
// line and Match finish fills in.
type hit struct {
	start, end int
	term       int32 // index into Engine.terms, or -1 for f
	f          Finding
}

// scratch is the per-goroutine memory of a scan, reused between texts.
type scratch struct {
	hits []hit
	// valid tells whether the last text scanned was valid UTF-8.
	valid bool
	// unsorted is set when a hit starts before an earlier one (a forced
	// engagement whose coercion word precedes the action).
	unsorted bool
	// anchors are the formulation segments the walk passed, for the sound
	// matcher; sound the spans it found alike.
	anchors []anchorHit
	sound   []soundCandidate
	exact   []soundCandidate // formulations written right
	spam    []spamSignal
}

// Scan returns every finding in text, ordered by start.
func (e *Engine) Scan(text string) []Finding {
	var sc scratch
	return e.scan(&sc, text, nil)
}

// scan appends text's findings to dst, with offsets relative to text.
func (e *Engine) scan(sc *scratch, text string, dst []Finding) []Finding {
	sc.hits, sc.unsorted, sc.anchors = sc.hits[:0], false, sc.anchors[:0]
	valid := e.matchTerms(sc, text)
	sc.valid = valid
	n := len(sc.hits)
	e.resolveSound(sc, text)
	sc.hits = scanPersonal(text, e.now(), sc.hits)
	if len(sc.hits) > n || sc.unsorted {
		slices.SortStableFunc(sc.hits, func(a, b hit) int { return a.start - b.start })
	}
	return finish(e.terms, text, valid, sc.hits, dst)
}

// finish converts hits, sorted by start, into findings with code point
// offsets and line numbers, counted once over the text; a hit's term
// indexes terms. valid tells whether text is valid UTF-8.
func finish(terms []term, text string, valid bool, hits []hit, dst []Finding) []Finding {
	pos, runes, line := 0, 0, 1
	count := func(s string) int {
		if valid {
			return countRunesValid(s)
		}
		return utf8.RuneCountInString(s)
	}
	for i := range hits {
		h := &hits[i]
		between := text[pos:h.start]
		runes += count(between)
		line += strings.Count(between, "\n")
		pos = h.start
		var f Finding
		if h.term >= 0 {
			t := &terms[h.term]
			f = Finding{Category: t.Category, Severity: t.Severity, Rule: t.Term, Suggestion: suggestion(t)}
		} else {
			f = h.f
		}
		f.Match = text[h.start:h.end]
		f.Start, f.Line = runes, line
		f.End = runes + count(f.Match)
		if !valid {
			// Each invalid byte counts as one code point, as []rune has it;
			// Match says so with U+FFFD and stays valid UTF-8.
			f.Match = string([]rune(f.Match))
		}
		dst = append(dst, f)
	}
	return dst
}

// suggestProhibited is what a prohibited finding advises.
const suggestProhibited = "删除违禁内容；如系网页被篡改植入，立即排查网站安全"

// suggestion is what a finding of t advises.
func suggestion(t *term) string {
	if t.Note != "" {
		return t.Note
	}
	switch {
	case strings.HasPrefix(t.Category, "prohibited."):
		return suggestProhibited
	case t.Category == model.CategorySecretMarking:
		return "涉密标识不得公开发布，立即撤回并按保密规定报告"
	case t.Category == model.CategoryEngagementForced:
		return suggestForced
	}
	return "核实后修改"
}

// symAt returns the symbol of the character at text[i] and its width; ok
// is false for a byte that is not valid UTF-8.
func (e *Engine) symAt(text string, i int) (s uint16, w int, ok bool) {
	b := text[i]
	if b < utf8.RuneSelf {
		return e.sym[b], 1, true
	}
	if s, ok := e.sym3(text, i); ok {
		return s, 3, true
	}
	return e.symSlow(text, i)
}

// sym3 decodes the usual non-ASCII character, three bytes with a lead byte
// that can be neither overlong (E0) nor a surrogate (ED): CJK, CJK
// punctuation, full-width forms. ok is false for anything else.
func (e *Engine) sym3(text string, i int) (uint16, bool) {
	if i+2 >= len(text) {
		return 0, false
	}
	b0, b1, b2 := text[i], text[i+1], text[i+2]
	if b0-0xE1 > 0xEF-0xE1 || b0 == 0xED || (uint16(b1)|uint16(b2)<<8)&0xC0C0 != 0x8080 {
		return 0, false
	}
	return e.sym[uint16(b0&0x0F)<<12|uint16(b1&0x3F)<<6|uint16(b2&0x3F)], true
}

// symSlow is symAt for the rare characters: two and four bytes, E0 and
// ED leads, invalid bytes.
func (e *Engine) symSlow(text string, i int) (uint16, int, bool) {
	r, w := utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError && w == 1 {
		return 0, 1, false
	}
	if r < foldMax {
		return e.sym[r], w, true
	}
	return 0, w, true
}

// matchState is matchTerms' running state.
type matchState struct {
	lastEnd, allowEnd int // byte offsets
}

// matchTerms appends a hit for every lexicon match in text: at each start
// the longest term, kept unless it overlaps the previous one or lies inside
// an allow-list context. It reports whether text is valid UTF-8.
//
// One pass reads the symbols; a start is walked down the trie only when it
// holds a one-character term or when it and the next character are the
// first two of some term (one look in the pair table), so most of the text
// costs a table lookup or two per character. That pass, advance, calls
// nothing, so its values stay in registers; it stops for what is rare: a
// start to resolve or a character the inline decoder does not handle.
func (e *Engine) matchTerms(sc *scratch, text string) bool {
	if len(e.terms) == 0 {
		return utf8.ValidString(text)
	}
	valid := true
	var st matchState
	var c cursor
	for {
		switch e.advance(text, &c) {
		case stopStart:
			e.start(sc, &st, text, c.at, c.at+widthAt(text, c.at), c.n1, c.n2, c.end2, c.noisy)
		case stopSlow:
			s, w, ok := e.symSlow(text, c.i)
			if !ok {
				valid = false
			}
			if e.step(&c, s, w) {
				e.start(sc, &st, text, c.at, c.at+widthAt(text, c.at), c.n1, c.n2, c.end2, c.noisy)
			}
		default:
			if c.prevHead&headEnds != 0 {
				n1 := uint32(c.prevHead) &^ headEnds
				e.start(sc, &st, text, c.prevAt, c.prevAt+widthAt(text, c.prevAt), n1, 0, 0, false)
			}
			return valid
		}
	}
}

// widthAt is the width of the character at text[i] as the matcher reads
// it: an invalid byte is one.
func widthAt(text string, i int) int {
	if text[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(text[i:])
	return w
}

// Why advance stopped.
const (
	stopEnd   = iota // the text is read
	stopStart        // the cursor holds a start to resolve
	stopSlow         // text[i] needs the full decoder
)

// cursor is where matchTerms' pass stands.
type cursor struct {
	i        int    // next byte to read
	prevHead uint64 // heads entry of the last character that starts some term, or 0
	prevAt   int    // its byte offset
	gap      int    // noise characters since it
	// A start to resolve, as start takes it; its first character ends
	// where the character at at ends.
	at, end2 int
	n1, n2   uint32
	noisy    bool
}

// advance reads text from c.i until it finds a start to resolve, a
// character it cannot decode inline, or the end.
//
// A start whose first two characters begin some term but end none is held
// back (pend) for one character: unless the third continues a term (one
// look in the filter), the walk would find nothing and is skipped.
func (e *Engine) advance(text string, c *cursor) int {
	sym, heads, bits := e.sym, e.heads, e.filter
	i, prevHead, prevAt, gap := c.i, c.prevHead, c.prevAt, c.gap
	var pend uint32 // the held-back start's depth-2 node, or 0; c holds the rest
	for i < len(text) {
		// The character is text[at:i].
		at := i
		var s uint16
		if b := text[i]; b < utf8.RuneSelf {
			s = sym[b]
			i++
		} else if t := text[i:]; len(t) > 2 && b-0xE1 <= 0xEF-0xE1 && b != 0xED && (uint16(t[1])|uint16(t[2])<<8)&0xC0C0 == 0x8080 {
			// The usual case (as sym3): CJK, CJK punctuation, full-width forms.
			s = sym[uint16(b&0x0F)<<12|uint16(t[1]&0x3F)<<6|uint16(t[2]&0x3F)]
			i += 3
		} else {
			c.i, c.prevHead, c.prevAt, c.gap = i, prevHead, prevAt, gap
			if pend != 0 {
				return stopStart // resolve the held-back start first; this character is read again
			}
			return stopSlow
		}
		if pend != 0 {
			// Noise or a zero-width character lets the walk decide.
			if s >= symDrop || bits[thirdBit(pend, s)/64]&(1<<(thirdBit(pend, s)%64)) != 0 {
				c.i, c.prevHead, c.prevAt, c.gap = at, prevHead, prevAt, gap
				return stopStart
			}
			pend = 0
		}
		if s >= symDrop {
			if s == symNoise {
				if gap++; gap > maxNoiseRun && prevHead != 0 {
					if prevHead&headEnds != 0 {
						c.at, c.n1, c.n2, c.end2, c.noisy = prevAt, uint32(prevHead)&^headEnds, 0, 0, false
						c.i, c.prevHead, c.prevAt, c.gap = i, 0, prevAt, gap
						return stopStart
					}
					prevHead = 0
				}
			}
			continue
		}
		if prevHead != 0 {
			// Symbol 0 is in no pair, so it needs no test of its own.
			var n2 uint32
			key := uint32(prevHead>>32) | uint32(s)
			if bit := pairBit(key); bits[bit/64]&(1<<(bit%64)) != 0 {
				n2 = e.pair(key)
			}
			if n2 != 0 || prevHead&headEnds != 0 {
				c.at, c.n1, c.n2, c.end2, c.noisy = prevAt, uint32(prevHead)&^headEnds, n2&^headEnds, i, gap > 0
				if (n2|uint32(prevHead))&headEnds != 0 || gap > 0 {
					c.i, c.prevHead, c.prevAt, c.gap = i, heads[s], at, 0
					return stopStart
				}
				pend = n2
			}
		}
		prevHead, prevAt, gap = heads[s], at, 0
	}
	c.i, c.prevHead, c.prevAt, c.gap = i, prevHead, prevAt, gap
	return stopEnd
}

// step is advance for one character decoded outside it, the symbol s of
// width w at c.i. It reports whether the cursor holds a start to resolve.
func (e *Engine) step(c *cursor, s uint16, w int) bool {
	i := c.i
	c.i += w
	if s >= symDrop {
		if s == symNoise {
			if c.gap++; c.gap > maxNoiseRun && c.prevHead != 0 {
				found := c.prevHead&headEnds != 0
				c.at, c.n1, c.n2, c.end2, c.noisy = c.prevAt, uint32(c.prevHead)&^headEnds, 0, 0, false
				c.prevHead = 0
				return found
			}
		}
		return false
	}
	found := false
	if c.prevHead != 0 {
		n2 := e.pair(uint32(c.prevHead>>32) | uint32(s))
		if n2 != 0 || c.prevHead&headEnds != 0 {
			c.at, c.n1, c.n2, c.end2, c.noisy = c.prevAt, uint32(c.prevHead)&^headEnds, n2&^headEnds, i+w, c.gap > 0
			found = true
		}
	}
	c.prevHead, c.prevAt, c.gap = e.heads[s], i, 0
	return found
}

// pair returns the depth-2 node for the symbols a b (key a<<16 | b), with
// headEnds set when a term or context ends there, or 0.
func (e *Engine) pair(key uint32) uint32 {
	for i := pairHash(key) & e.pairMask; ; i = (i + 1) & e.pairMask {
		v := e.pairs[i]
		if v == 0 || uint32(v>>32) == key {
			return uint32(v)
		}
	}
}

// start resolves the start at byte offset at: depth-1 node n1 ending at
// end1 and, when the next character continues a term, depth-2 node n2
// ending at end2 (noisy when noise stood between them).
func (e *Engine) start(sc *scratch, st *matchState, text string, at, end1 int, n1, n2 uint32, end2 int, noisy bool) {
	best, bestEnd, allowTo := e.walk(sc, text, at, end1, n1, n2, end2, noisy)
	if allowTo > st.allowEnd {
		st.allowEnd = allowTo
	}
	if best < 0 || at < st.lastEnd || bestEnd <= st.allowEnd {
		return
	}
	h := hit{start: at, end: bestEnd, term: best}
	if e.terms[best].trigger {
		var ok bool
		if h, ok = forcedEngagement(text, h); !ok {
			return
		}
		if n := len(sc.hits); n > 0 {
			if p := &sc.hits[n-1]; p.term < 0 && p.f.Category == h.f.Category && h.start < p.end {
				// One coercion, several actions: one finding.
				p.start, p.end = min(p.start, h.start), max(p.end, h.end)
				st.lastEnd = bestEnd
				return
			}
			if h.start < sc.hits[n-1].start {
				sc.unsorted = true
			}
		}
	}
	st.lastEnd = bestEnd
	sc.hits = append(sc.hits, h)
}

// walk follows the trie from depth-1 node n1 (ending at byte end1) through
// depth-2 node n2 (ending at end2; 0 for none) as far as the text goes. It
// returns the longest term found (or -1) with its byte end, and the byte
// end of the longest allow-list context.
func (e *Engine) walk(sc *scratch, text string, at, end1 int, n1, n2 uint32, end2 int, noisy bool) (best int32, bestEnd, allowTo int) {
	best = -1
	if t := e.out[n1]; t >= 0 && e.wholeWord(t, text, at, end1) {
		best, bestEnd = t, end1
	}
	if e.allowAt[n1] >= 0 {
		allowTo = end1
	}
	if n2 == 0 {
		return
	}
	n, j := n2, end2
	run := 0
	for {
		if t := e.out[n]; t >= 0 && (!noisy || e.terms[t].tolerant) && e.wholeWord(t, text, at, j) {
			best, bestEnd = t, j
		}
		if e.allowAt[n] >= 0 {
			allowTo = j
		}
		if g := e.anchorAt[n]; g >= 0 && !noisy {
			sc.anchors = append(sc.anchors, anchorHit{group: g, at: at, end: j})
		}
		if e.first[n] == e.first[n+1] {
			return // a leaf
		}
		var s uint16
		var w int
		for j < len(text) {
			if t := text[j:]; t[0] < utf8.RuneSelf {
				s, w = e.sym[t[0]], 1
			} else if b := t[0]; len(t) > 2 && b-0xE1 <= 0xEF-0xE1 && b != 0xED && (uint16(t[1])|uint16(t[2])<<8)&0xC0C0 == 0x8080 {
				s, w = e.sym[uint16(b&0x0F)<<12|uint16(t[1]&0x3F)<<6|uint16(t[2]&0x3F)], 3
			} else {
				s, w, _ = e.symSlow(text, j)
			}
			if s == symDrop {
				j += w
				continue
			}
			if s == symNoise {
				if run == maxNoiseRun {
					return
				}
				run++
				noisy = true
				j += w
				continue
			}
			break
		}
		if j >= len(text) || s == 0 || s == symNoise {
			return
		}
		if n = e.child(n, s); n == 0 {
			return
		}
		run = 0
		j += w
	}
}

// wholeWord reports whether a match of term t over symbols k..j-1 stands
// as a word: English terms must not continue into letters or digits.
func (e *Engine) wholeWord(t int32, text string, start, end int) bool {
	if !e.terms[t].english {
		return true
	}
	if start > 0 && isASCIIAlnum(text[start-1]) {
		return false
	}
	return end >= len(text) || !isASCIIAlnum(text[end])
}

func isASCIIAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

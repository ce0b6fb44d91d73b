package textscan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

// Symbols the matcher reads: 0 is a character no term contains (or a line
// break), symNoise a character skipped between the characters of a
// noise-tolerant term; zero-width characters never reach the matcher.
const (
	symNoise = 0xFFFF
	symDrop  = 0xFFFE
	symMax   = 0xFFFD // symbols are 1..symMax-1
)

// maxNoiseRun is how many noise characters in a row may separate two
// characters of a term ("法 * 轮 * 功" has three).
const maxNoiseRun = 3

// term is a compiled lexicon entry.
type term struct {
	Entry
	allow    bool
	tolerant bool  // noise characters may stand between its characters
	english  bool  // ASCII letters only: matches whole words
	trigger  bool  // an action word of the forced-engagement rule
	anchor   int32 // 1 + the sound matcher's anchor group of a segment, or 0
}

// Engine finds every content problem in a text: lexicon terms of every
// category (normalised, longest match wins, allow-list contexts suppress)
// and the validators (ID numbers, mobile and bank card numbers, forced
// engagement). An Engine is immutable and safe for concurrent use.
type Engine struct {
	terms    []term
	sym      *[foldMax]uint16 // rune → symbol
	root     []uint32         // symbol → depth-1 node (0: none)
	first    []uint32         // node → its first child; children of n are first[n]..first[n+1]-1
	label    []uint16         // node → the symbol leading to it
	out      []int32          // node → index of the term ending there, or -1
	allowAt  []int32          // node → index of the allow-list context ending there, or -1
	anchorAt []int32          // node → the anchor group of a formulation segment ending there, or -1
	// Edges out of nodes with many children, in an open-addressing table
	// keyed by node<<16 | symbol; edgeMask+1 slots.
	edgeKey  []uint64
	edgeVal  []uint32
	edgeMask uint64
	// The depth-2 nodes keyed by their two symbols a<<16 | b, so most starts
	// are dismissed with one look in a table of about a megabyte.
	pairs    []uint64 // key<<32 | node; 0 is empty
	pairMask uint32
	// filter is a 256 KiB bitset that stays in cache and answers most
	// questions with "none": it holds the hashed pairs of the pair table
	// and the hashed edges out of depth-2 nodes (most starts whose first
	// two characters begin some term go no further, and it tells that
	// without a walk). One table for both keeps the match loop in registers.
	filter *[1 << filterLog / 64]uint64
	// heads[s] is, for every symbol, root[s] with headEnds set when a term
	// or context is the one character s, and s<<48 (its pair key s<<16 in
	// the high word): one load, one register for all three.
	heads *[1 << 16]uint64

	sound   *soundMatcher
	version string
	now     func() time.Time
}

func pairHash(k uint32) uint32 { return (k * 0x9E3779B1) >> 7 }

// filterLog sizes filter: 2^21 bits.
const filterLog = 21

// pairBit is the filter bit of the pair key k.
func pairBit(k uint32) uint32 { return (k * 0x85EBCA77) >> (32 - filterLog) }

// thirdBit is the filter bit of the edge labelled c out of depth-2 node n.
func thirdBit(n uint32, c uint16) uint32 {
	return uint32((uint64(n)<<16 | uint64(c)) * 0x9E3779B97F4A7C15 >> (64 - filterLog))
}

// headEnds marks a one-character term or context in Engine.heads.
const headEnds = 1 << 31

// fanout above which a node's children are found through the edge table.
const fanout = 6

func edgeHash(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 20 }

// Version identifies the lexicon the engine was built from.
func (e *Engine) Version() string { return e.version }

// Terms is the number of distinct terms and contexts the engine matches.
func (e *Engine) Terms() int { return len(e.terms) }

// NewEngine compiles a lexicon. now bounds birth dates of ID numbers
// (time.Now when nil).
func NewEngine(lex *Lexicon, now func() time.Time) (*Engine, error) {
	initFold()
	if now == nil {
		now = time.Now
	}
	e := &Engine{version: lex.Version, now: now}
	near := lex.nearMisses()
	var anchors []Entry
	e.sound, anchors = newSoundMatcher(lex)
	entries := len(lex.Entries) + len(near) + len(anchors) + len(lex.Allow) + len(engageActions)
	e.terms = make([]term, 0, entries)

	// Fold every term into symbols.
	symOf := make([]uint16, foldMax)
	next := uint16(1)
	type seq struct {
		off, n uint32 // the symbols are pool[off:off+n]
		t      int32
	}
	seqs := make([]seq, 0, entries)
	pool := make([]uint16, 0, 8*entries)
	add := func(en Entry, allow bool) error {
		t := term{Entry: en, allow: allow, english: true}
		off := len(pool)
		for _, r := range en.Term {
			c, class := fold(r)
			switch class {
			case classDrop:
				continue
			case classNoise:
				t.tolerant = true
				continue
			case classBreak:
				return fmt.Errorf("%s: line break in term", en.Source())
			}
			if r >= 0x80 || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				t.english = false
			}
			if c >= foldMax {
				return fmt.Errorf("%s: character %q outside the matched planes", en.Source(), r)
			}
			if symOf[c] == 0 {
				if next == symMax {
					return fmt.Errorf("%s: more than %d distinct characters in the lexicon", en.Source(), symMax-1)
				}
				symOf[c] = next
				next++
			}
			pool = append(pool, symOf[c])
		}
		if len(pool) == off {
			return nil // only symbols: nothing to match
		}
		if !strings.ContainsFunc(en.Term, isASCIILetter) {
			t.english = false
		}
		// High-severity terms are matched through noise; so are allow-list
		// contexts, which are written with quotes.
		if allow || en.Severity == model.SeverityCritical {
			t.tolerant = true
		}
		seqs = append(seqs, seq{uint32(off), uint32(len(pool) - off), int32(len(e.terms))})
		e.terms = append(e.terms, t)
		return nil
	}
	for _, list := range [][]Entry{lex.Entries, near} {
		for _, en := range list {
			if err := add(en, false); err != nil {
				return nil, err
			}
		}
	}
	for _, en := range lex.Allow {
		if err := add(en, true); err != nil {
			return nil, err
		}
	}
	for g, en := range anchors {
		if err := add(en, false); err != nil {
			return nil, err
		}
		e.terms[len(e.terms)-1].anchor = int32(g) + 1
	}
	for _, en := range triggerEntries() {
		if err := add(en, false); err != nil {
			return nil, err
		}
		e.terms[len(e.terms)-1].trigger = true
	}

	// The symbol table of every rune the text may hold.
	e.sym = new([foldMax]uint16)
	for r := range rune(foldMax) {
		c, class := fold(r)
		switch class {
		case classNoise:
			e.sym[r] = symNoise
		case classDrop:
			e.sym[r] = symDrop
		case classChar:
			if c < foldMax {
				e.sym[r] = symOf[c]
			}
		}
	}

	// The trie, built level by level from the sorted sequences so that the
	// children of a node are consecutive nodes in breadth-first order.
	// Bucket by first symbol (a counting sort), then sort each small bucket
	// on the rest: far fewer comparisons than one sort of everything.
	start := make([]int, int(next)+1)
	for _, q := range seqs {
		start[pool[q.off]+1]++
	}
	for c := 1; c < len(start); c++ {
		start[c] += start[c-1]
	}
	sorted := make([]seq, len(seqs))
	fill := slices.Clone(start)
	for _, q := range seqs {
		c := pool[q.off]
		sorted[fill[c]] = q
		fill[c]++
	}
	seqs = sorted
	for c := 1; c+1 < len(start); c++ {
		bucket := seqs[start[c]:start[c+1]]
		if len(bucket) < 2 {
			continue
		}
		slices.SortFunc(bucket, func(a, b seq) int {
			if c := slices.Compare(pool[a.off+1:a.off+a.n], pool[b.off+1:b.off+b.n]); c != 0 {
				return c
			}
			return int(a.t - b.t)
		})
	}
	e.root = make([]uint32, next)
	nodes := len(pool) + 2 // at most one node per symbol of the terms, the root and the sentinel
	e.first = append(make([]uint32, 0, nodes), 0)
	e.label = append(make([]uint16, 0, nodes), 0)
	e.out = append(make([]int32, 0, nodes), -1)
	e.allowAt = append(make([]int32, 0, nodes), -1)
	e.anchorAt = append(make([]int32, 0, nodes), -1)
	type span struct{ lo, hi int } // sequences sharing the node's prefix
	level := []span{{0, len(seqs)}}
	for depth := 0; len(level) > 0; depth++ {
		var nextLevel []span
		for _, sp := range level {
			lo := sp.lo
			for lo < sp.hi && int(seqs[lo].n) == depth {
				lo++ // terms ending here were recorded when the node was made
			}
			for lo < sp.hi {
				c := pool[seqs[lo].off+uint32(depth)]
				hi := lo
				for hi < sp.hi && pool[seqs[hi].off+uint32(depth)] == c {
					hi++
				}
				nextLevel = append(nextLevel, span{lo, hi})
				lo = hi
			}
		}
		// Number the next level's nodes and record their parents' first child.
		base := len(e.first)
		parentFirst := make([]uint32, 0, len(level)+1)
		k := 0
		for _, sp := range level {
			parentFirst = append(parentFirst, uint32(base+k))
			for k < len(nextLevel) && nextLevel[k].lo < sp.hi {
				k++
			}
		}
		copy(e.first[base-len(level):], parentFirst)
		for _, sp := range nextLevel {
			c := pool[seqs[sp.lo].off+uint32(depth)]
			out, allow, anchor := int32(-1), int32(-1), int32(-1)
			for i := sp.lo; i < sp.hi && int(seqs[i].n) == depth+1; i++ {
				t := seqs[i].t
				if g := e.terms[t].anchor; g > 0 {
					anchor = g - 1
				} else if e.terms[t].allow {
					if allow < 0 {
						allow = t
					}
				} else if out < 0 || model.SeverityRank(e.terms[t].Severity) > model.SeverityRank(e.terms[out].Severity) {
					out = t // one term per form: the most severe, then the first
				}
			}
			e.first = append(e.first, 0)
			e.label = append(e.label, c)
			e.out = append(e.out, out)
			e.allowAt = append(e.allowAt, allow)
			e.anchorAt = append(e.anchorAt, anchor)
			if depth == 0 {
				e.root[c] = uint32(len(e.first) - 1)
			}
		}
		level = nextLevel
	}
	// A childless node's first is where its children would start, so the
	// last level's nodes point past the end; the sentinel closes the last one.
	e.first = append(e.first, uint32(len(e.first)))
	e.buildEdges()
	e.buildPairs()
	return e, nil
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// buildEdges puts the edges of the nodes with more than fanout children
// into the edge table.
func (e *Engine) buildEdges() {
	edges := 0
	for n := 1; n+1 < len(e.first); n++ {
		if c := e.first[n+1] - e.first[n]; c > fanout {
			edges += int(c)
		}
	}
	size := uint64(1024)
	for size < uint64(edges)*2 {
		size *= 2
	}
	e.edgeKey = make([]uint64, size)
	e.edgeVal = make([]uint32, size)
	e.edgeMask = size - 1
	for n := 1; n+1 < len(e.first); n++ {
		lo, hi := e.first[n], e.first[n+1]
		if hi-lo <= fanout {
			continue
		}
		for k := lo; k < hi; k++ {
			key := uint64(n)<<16 | uint64(e.label[k])
			i := edgeHash(key) & e.edgeMask
			for e.edgeVal[i] != 0 {
				i = (i + 1) & e.edgeMask
			}
			e.edgeKey[i], e.edgeVal[i] = key, k
		}
	}
}

// buildPairs fills the pair table with every depth-2 node, flagged with
// headEnds when a term or context ends there, and the filter with the
// pairs and the edges out of those nodes.
func (e *Engine) buildPairs() {
	var n2 int
	for c := 1; c < len(e.root); c++ {
		if n1 := e.root[c]; n1 != 0 {
			n2 += int(e.first[n1+1] - e.first[n1])
		}
	}
	size := uint32(1024)
	for size < uint32(n2)*2 {
		size *= 2
	}
	e.pairs = make([]uint64, size)
	e.pairMask = size - 1
	e.filter = new([1 << filterLog / 64]uint64)
	e.heads = new([1 << 16]uint64)
	for c := 1; c < len(e.root); c++ {
		n1 := e.root[c]
		if n1 == 0 {
			continue
		}
		e.heads[c] = uint64(c)<<48 | uint64(n1)
		if e.out[n1] >= 0 || e.allowAt[n1] >= 0 {
			e.heads[c] |= headEnds
		}
		for k := e.first[n1]; k < e.first[n1+1]; k++ {
			key := uint32(c)<<16 | uint32(e.label[k])
			b := pairBit(key)
			e.filter[b/64] |= 1 << (b % 64)
			i := pairHash(key) & e.pairMask
			for e.pairs[i] != 0 {
				i = (i + 1) & e.pairMask
			}
			e.pairs[i] = uint64(key)<<32 | uint64(k)
			if e.out[k] >= 0 || e.allowAt[k] >= 0 || e.anchorAt[k] >= 0 {
				e.pairs[i] |= headEnds
			}
			for k3 := e.first[k]; k3 < e.first[k+1]; k3++ {
				b := thirdBit(k, e.label[k3])
				e.filter[b/64] |= 1 << (b % 64)
			}
		}
	}
}

// child returns the child of node n labelled c, or 0.
func (e *Engine) child(n uint32, c uint16) uint32 {
	lo, hi := e.first[n], e.first[n+1]
	if hi-lo <= fanout {
		for k := lo; k < hi; k++ {
			if e.label[k] == c {
				return k
			}
		}
		return 0
	}
	key := uint64(n)<<16 | uint64(c)
	for i := edgeHash(key) & e.edgeMask; ; i = (i + 1) & e.edgeMask {
		switch v := e.edgeVal[i]; {
		case v == 0:
			return 0
		case e.edgeKey[i] == key:
			return v
		}
	}
}

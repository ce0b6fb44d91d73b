package textscan

import (
	"slices"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

// soundEngine is an engine of a few formulations, one of each length
// class, with a confusable pair.
func soundEngine(t testing.TB) *Engine {
	t.Helper()
	lex := &Lexicon{Confusables: []string{"冶治"}}
	for _, p := range []string{"四个意识", "全面从严治党", "中国特色社会主义", "习近平新时代中国特色社会主义思想"} {
		lex.Protected = append(lex.Protected, Entry{Category: model.CategoryWordingSerious, Severity: model.SeverityCritical, Term: p, File: "protected.txt", Line: 1})
	}
	e, err := NewEngine(lex, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// naiveSound is the rule written directly: every window of every
// formulation's length whose folded characters differ from it in 1 to
// maxAlike places, each alike (or one place of any kind in a formulation
// of 7 or more), that is no protected formulation and lies inside none
// written right; of overlapping windows the longest, then the first.
func naiveSound(e *Engine, text string) [][2]int {
	type ch struct {
		c      rune
		at, to int
	}
	type win struct{ n, at, to int }
	var line []ch
	var wins, right []win
	flush := func() {
		for fi := range e.sound.forms {
			f := &e.sound.forms[fi]
			n := len(f.chars)
		window:
			for s := 0; s+n <= len(line); s++ {
				diff, unlike := 0, 0
				w := make([]rune, n)
				for i := range n {
					c := line[s+i].c
					w[i] = c
					if c == f.chars[i] {
						continue
					}
					if !e.sound.alike(f, i, c) {
						unlike++
					}
					diff++
				}
				if diff == 0 {
					right = append(right, win{n, line[s].at, line[s+n-1].to})
				}
				if unlike > 0 && (diff > 1 || n < 7) {
					continue window
				}
				if diff >= 1 && diff <= maxAlike(n) && !e.sound.exact[string(w)] {
					wins = append(wins, win{n, line[s].at, line[s+n-1].to})
				}
			}
		}
		line = line[:0]
	}
	for i, r := range text {
		c, class := fold(r)
		switch class {
		case classChar:
			line = append(line, ch{c, i, i + len(string(r))})
		case classDrop:
		default:
			flush()
		}
	}
	flush()
	// Of overlapping windows the longest, then the first, is kept.
	slices.SortStableFunc(wins, func(a, b win) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return a.at - b.at
	})
	var out [][2]int
next:
	for _, w := range wins {
		for _, r := range right {
			if r.at <= w.at && w.to <= r.to {
				continue next
			}
		}
		for _, o := range out {
			if w.at < o[1] && o[0] < w.to {
				continue next
			}
		}
		out = append(out, [2]int{w.at, w.to})
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return out
}

// soundHits are the byte spans of the sound matcher's findings in text.
func soundHits(e *Engine, text string) [][2]int {
	var sc scratch
	e.matchTerms(&sc, text)
	e.resolveSound(&sc, text)
	var out [][2]int
	for _, h := range sc.hits {
		if h.term < 0 && h.f.Category == model.CategoryWordingSerious {
			out = append(out, [2]int{h.start, h.end})
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return slices.Compact(out)
}

// FuzzSound holds the anchored matcher to the direct rule: it must find
// every alike window and nothing else, whatever surrounds it.
func FuzzSound(f *testing.F) {
	seed(f,
		"坚持中国特色社会注意道路",
		"深入学习习近平新时代中国特色社汇注意思想",
		"增强四个意思，全面从严冶党",
		"全面從嚴執黨\u200b中国特色社会\n注意",
		"中国特色社会主义中国特色社会主意",
		"\xff四个意思\xe6",
	)
	e := soundEngine(f)
	f.Fuzz(func(t *testing.T, text string) {
		got, want := soundHits(e, text), naiveSound(e, text)
		if !slices.Equal(got, want) {
			t.Fatalf("sound matcher on %q: %v, the direct rule %v", text, got, want)
		}
	})
}

// TestSoundAgainstNaive runs the fuzz seeds and random mutations of the
// formulations (characters replaced by homophones, confusables or
// anything) through both.
func TestSoundAgainstNaive(t *testing.T) {
	e := soundEngine(t)
	alike := []rune("注意识实事是治致志执冶社射汇会设色涩特新心时代中忠国果义艺主思")
	seed := uint64(1)
	next := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	for round := range 3000 {
		f := e.sound.forms[round%len(e.sound.forms)]
		rs := append([]rune("，在"), f.chars...)
		rs = append(rs, []rune("道路。")...)
		for range next(4) + 1 {
			rs[next(len(rs))] = alike[next(len(alike))]
		}
		text := string(rs)
		if got, want := soundHits(e, text), naiveSound(e, text); !slices.Equal(got, want) {
			t.Fatalf("sound matcher on %q: %v, the direct rule %v", text, got, want)
		}
	}
}

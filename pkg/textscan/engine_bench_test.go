package textscan

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/govwatch/govwatch/configs/lexicons"
)

// benchLexicon is the shipped lexicons (protected formulations and
// confusables, so the sound matcher runs too) with the shared 64k-term
// lexicon added as prohibited.political, read in place; benchmarks skip
// without it.
func benchLexicon(tb testing.TB) (*Lexicon, string) {
	tb.Helper()
	lexData, err := os.ReadFile("../../../shared/bench/lexicon-64k.txt")
	if err != nil {
		tb.Skipf("no shared lexicon: %v", err)
	}
	hay, err := os.ReadFile("../../../shared/bench/zh-sampled.txt")
	if err != nil {
		tb.Skipf("no shared sample text: %v", err)
	}
	lex, err := LoadLexicon(lexicons.FS)
	if err != nil {
		tb.Fatalf("shipped lexicons: %v", err)
	}
	lex.Version = "bench"
	if p := lex.parse("prohibited.political.txt", lexData); len(p) > 0 {
		tb.Fatalf("bench lexicon: %v", p)
	}
	return lex, string(hay)
}

func BenchmarkEngine(b *testing.B) {
	lex, hay := benchLexicon(b)
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := NewEngine(lex, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	e, err := NewEngine(lex, nil)
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.Logf("engine: %d terms, heap in use %.1f MB", e.Terms(), float64(ms.HeapInuse)/1e6)
	b.Run("match-one-core", func(b *testing.B) {
		// Normalisation, lexicon matching and the sound matcher, on the
		// calling goroutine.
		var sc scratch
		b.SetBytes(int64(len(hay)))
		for b.Loop() {
			sc.hits, sc.anchors = sc.hits[:0], sc.anchors[:0]
			e.matchTerms(&sc, hay)
			e.resolveSound(&sc, hay)
		}
	})
	b.Run("scan-zh-sampled", func(b *testing.B) {
		b.ReportMetric(float64(len(benchEngineScan(b, e, hay))), "findings")
	})
}

func TestEngineBuildTime(t *testing.T) {
	lex, _ := benchLexicon(t)
	s := time.Now()
	e, err := NewEngine(lex, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d terms in %v", e.Terms(), time.Since(s))
}

// BenchmarkRipgrep times `rg -c -F -f` with the same lexicon over the same
// text, for the ratio in docs/performance.md; it skips without rg.
func BenchmarkRipgrep(b *testing.B) {
	const lexPath, hayPath = "../../../shared/bench/lexicon-64k.txt", "../../../shared/bench/zh-sampled.txt"
	rg, err := exec.LookPath("rg")
	if err != nil {
		b.Skip("ripgrep not installed")
	}
	st, err := os.Stat(hayPath)
	if err != nil {
		b.Skipf("no shared sample text: %v", err)
	}
	if _, err := os.Stat(lexPath); err != nil {
		b.Skipf("no shared lexicon: %v", err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		// rg exits 1 when nothing matches; only a failure to run counts.
		if out, err := exec.Command(rg, "-c", "-F", "-f", lexPath, hayPath).Output(); err != nil && len(out) == 0 {
			if _, ok := err.(*exec.ExitError); !ok {
				b.Fatal(err)
			}
		}
	}
}

// benchEngineScan scans text b.N times on one scratch, as a worker does, and
// returns the last findings.
func benchEngineScan(b *testing.B, e *Engine, text string) []Finding {
	var sc scratch
	var dst []Finding
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		dst = e.scan(&sc, text, dst[:0])
	}
	return dst
}

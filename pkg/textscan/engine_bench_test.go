package textscan

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// benchLexicon loads the shared 64k-term lexicon as prohibited.political,
// read in place; benchmarks skip without it.
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
	lex := &Lexicon{Version: "bench"}
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
	b.Run("scan-zh-sampled", func(b *testing.B) {
		var sc scratch
		var dst []Finding
		b.SetBytes(int64(len(hay)))
		b.ReportAllocs()
		for b.Loop() {
			dst = e.scan(&sc, hay, dst[:0])
		}
		b.ReportMetric(float64(len(dst)), "findings")
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

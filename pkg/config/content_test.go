package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestContentKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lex"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "afile", "x")
	tests := []struct {
		name   string
		yaml   string
		want   []string // problems; none means it loads
		reload time.Duration
	}{
		{"default", "analyzer: {}\n", nil, 30 * time.Second},
		{"directory relative to the config", "analyzer:\n  lexicons: lex\n  lexicon_reload: 5s\n", nil, 5 * time.Second},
		{"missing directory", "analyzer:\n  lexicons: nolex\n", []string{`:2: analyzer.lexicons: cannot read "nolex"`}, 0},
		{"a file", "analyzer:\n  lexicons: afile\n", []string{`analyzer.lexicons: "afile" is not a directory`}, 0},
		{"reload too often", "analyzer:\n  lexicon_reload: 10ms\n", []string{"analyzer.lexicon_reload: must be at least 1s"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, "c.yaml", tt.yaml)
			l, err := Load(p)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := l.Analyzer.LexiconReload.D(); got != tt.reload {
					t.Errorf("lexicon_reload = %v, want %v", got, tt.reload)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q; got:\n%s", w, err)
				}
			}
		})
	}
}

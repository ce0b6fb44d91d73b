package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"time"
)

// Content configures the analyzer's content checks (lexicon matching and
// validators) and POST /api/v1/check. Its keys sit under analyzer:
//
//	analyzer:
//	  lexicons: configs/lexicons   # a directory of <category>.txt files; empty: the built-in lexicons
//	  lexicon_reload: 30s          # how often the directory is checked for changes (SIGHUP reloads at once)
type Content struct {
	Lexicons      string        `yaml:"lexicons" doc:"A folder of <category>.txt lexicons, reloaded while running; empty: the built-in lexicons." example:"configs/lexicons"`
	LexiconReload conf.Duration `yaml:"lexicon_reload" doc:"How often the lexicon folder is checked for changes (SIGHUP reloads at once)."`
}

// defaultLexiconReload is how often the lexicon directory is polled.
const defaultLexiconReload = conf.Duration(30 * time.Second)

func (c *Config) validateContent(bad func(string, string, ...any)) {
	ct := c.Analyzer.Content
	if ct.Lexicons != "" {
		if st, err := os.Stat(c.Resolve(ct.Lexicons)); err != nil {
			bad("analyzer.lexicons", "cannot read %q: %v", ct.Lexicons, unwrapPathError(err))
		} else if !st.IsDir() {
			bad("analyzer.lexicons", "%q is not a directory", ct.Lexicons)
		}
	}
	if ct.LexiconReload < conf.Duration(time.Second) {
		bad("analyzer.lexicon_reload", "must be at least 1s, not %s", ct.LexiconReload)
	}
}

// Package terms is the plain term lists the opinion detectors match
// comments and posts against (negative words, emergency words): one term a
// line, read from a file a deployment names or from a detector's built-in
// list, matched by substring. The lists are short (tens of terms), so a
// loop of strings.Contains beats building an automaton.
package terms

import (
	"fmt"
	"os"
	"strings"
)

// List is a term list.
type List struct {
	terms []string
}

// Parse reads one term a line; blank lines and lines starting with # are
// skipped, repeats are dropped. name is used in errors.
func Parse(name, text string) (*List, error) {
	l := &List{}
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.ContainsAny(t, " \t") {
			return nil, fmt.Errorf("%s:%d: term %q contains a space", name, i+1, t)
		}
		if !seen[t] {
			seen[t] = true
			l.terms = append(l.terms, t)
		}
	}
	if len(l.terms) == 0 {
		return nil, fmt.Errorf("%s: no terms", name)
	}
	return l, nil
}

// Load reads the list in the file at path, or parses builtin (named
// builtinName in errors) when path is "".
func Load(path, builtinName, builtin string) (*List, error) {
	if path == "" {
		return Parse(builtinName, builtin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("term list: %w", err)
	}
	return Parse(path, string(b))
}

// Match returns the terms found in s, in list order.
func (l *List) Match(s string) []string {
	var out []string
	for _, t := range l.terms {
		if strings.Contains(s, t) {
			out = append(out, t)
		}
	}
	return out
}

// Len is the number of terms.
func (l *List) Len() int { return len(l.terms) }

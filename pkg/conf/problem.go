// Package conf is how govwatch reads configuration: strict YAML decoding
// that reports every problem at once with file:line, ${ENV} expansion,
// durations and sizes, paths resolved against the config file, the sections
// a plugin owns (Section), and the Report a section's Validate writes its
// problems to. It knows no setting of any component: pkg/config lays out the
// file, and each plugin decodes its own section with this package.
package conf

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a configuration file, with where it is.
type Problem struct {
	File string
	Line int
	Path string // dotted path to the value, e.g. registry.accounts[2].unit
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one load; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sorted orders the problems by file, then line, keeping the order of
// problems on one line, and returns them.
func (ps Problems) Sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

// Err is ps sorted as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps.Sorted()
}

// Join returns the path of key below path: Join("a", "b") is "a.b",
// Join("a", "[2]") is "a[2]", and an empty side is left out.
func Join(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	case key[0] == '[':
		return path + key
	}
	return path + "." + key
}

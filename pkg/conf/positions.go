package conf

import (
	"fmt"
	"sort"
	"strings"
)

// Positions maps the dotted path of every value in a decoded file to its line.
type Positions struct {
	File  string
	lines map[string]int
	// Lookup, when set, is asked first: a file read in parts (a registry
	// read a batch at a time) finds the lines of the parts it no longer
	// holds.
	Lookup func(path string) (line int, ok bool)
}

// NewPositions returns empty positions for file.
func NewPositions(file string) *Positions {
	return &Positions{File: file, lines: map[string]int{}}
}

// Line returns the line of path, or of its nearest ancestor that has one.
func (p *Positions) Line(path string) int {
	if p == nil {
		return 0
	}
	if p.Lookup != nil {
		if l, ok := p.Lookup(path); ok && l > 0 {
			return l
		}
	}
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// set records the line of path.
func (p *Positions) set(path string, line int) {
	if path != "" {
		p.lines[path] = line
	}
}

// pathAt returns the deepest path that starts on line, or "".
func (p *Positions) pathAt(line int) string {
	best := ""
	for path, l := range p.lines {
		if l == line && (len(path) > len(best) || len(path) == len(best) && path < best) {
			best = path
		}
	}
	return best
}

// Problem builds a Problem located at path.
func (p *Positions) Problem(path, format string, args ...any) Problem {
	file := ""
	if p != nil {
		file = p.File
	}
	return Problem{File: file, Line: p.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Paths lists the paths whose lines are recorded, in file order.
func (p *Positions) Paths() []string {
	paths := make([]string, 0, len(p.lines))
	for path := range p.lines {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		if p.lines[paths[i]] != p.lines[paths[j]] {
			return p.lines[paths[i]] < p.lines[paths[j]]
		}
		return paths[i] < paths[j]
	})
	return paths
}

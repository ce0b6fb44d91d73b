package conf

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// MinAliasValues is how many values the aliases of a file may add to it
// however small the file is. Beyond that they may add as many values as the
// file holds itself: a registry whose every account merges a shared block
// (<<: *defaults) doubles at most, while nine levels of nine aliases (the
// "billion laughs") would add 387 million values to a file of a hundred.
// yaml.v3 follows aliases without a bound, and so would every walk of the
// node tree after it.
const MinAliasValues = 1_000_000

// Aliases checks the aliases of one file, read as one document or as
// several (a registry file read a batch at a time): an alias that refers to
// a node it lies inside is a cycle, and aliases may not add more values than
// MinAliasValues or the file's own count of values, whichever is larger,
// counted over every document checked so far. The zero value with a File
// is ready to use.
type Aliases struct {
	File string

	own, added int
}

// Check counts doc's values and what its aliases expand to, and refuses
// mapping keys that are mappings or lists, which no config has and which
// make yaml.v3 panic when the mapping also merges (<<). The error is a
// Problems naming the alias or key, by line and column, that closes a
// cycle, goes past the bound or is not plain; doc must not be walked
// through its aliases or decoded then.
func (a *Aliases) Check(doc *yaml.Node) error {
	w := aliasWalk{sizes: map[*yaml.Node]int{}}
	a.own += countOwn(doc)
	limit := max(MinAliasValues, a.own)
	var bad *Problem
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				if k := n.Content[i]; !plainKey(k) {
					bad = &Problem{File: a.File, Line: k.Line, Msg: fmt.Sprintf("key at line %d column %d is a mapping or a list: keys must be plain values", k.Line, k.Column)}
					return false
				}
			}
		}
		if n.Kind == yaml.AliasNode {
			s, cycle := w.size(n)
			if cycle != nil {
				bad = &Problem{File: a.File, Line: cycle.Line, Msg: fmt.Sprintf("alias *%s at line %d column %d refers to its own anchor: a cycle", cycle.Value, cycle.Line, cycle.Column)}
				return false
			}
			a.added = satAdd(a.added, s-1)
			if a.added > limit {
				bad = &Problem{File: a.File, Line: n.Line, Msg: fmt.Sprintf("alias *%s at line %d column %d: aliases expand to more than %d values", n.Value, n.Line, n.Column, limit)}
				return false
			}
			return true
		}
		for _, c := range n.Content {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	if walk(doc) {
		return nil
	}
	return Problems{*bad}
}

// Parse parses data as one YAML document, as yaml.Unmarshal into a
// yaml.Node does, and checks its aliases (Aliases). The error is a Problems
// with file:line.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{yamlProblem(file, err)}
	}
	a := Aliases{File: file}
	if err := a.Check(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// CheckAliases checks the aliases of the first document in data, the one
// a reader that decodes data itself (yaml.NewDecoder with KnownFields, one
// Decode) reads: call it first, and decode only when it returns nil. YAML
// that does not parse is left to that reader to report, in its own words;
// the error is a Problems.
func CheckAliases(file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil
	}
	a := Aliases{File: file}
	return a.Check(&doc)
}

// plainKey reports whether k, a mapping key, is a scalar, itself or
// through its alias.
func plainKey(k *yaml.Node) bool {
	for k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	return k.Kind != yaml.MappingNode && k.Kind != yaml.SequenceNode
}

// countOwn is the number of nodes below and including n, an alias
// counting as one.
func countOwn(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countOwn(k)
	}
	return c
}

// aliasWalk computes the number of nodes a node stands for once its aliases
// are expanded, each node once.
type aliasWalk struct {
	// sizes holds the expanded size of each node done, and inProgress
	// for each node whose expansion is being counted: an alias reaching
	// one of those is inside what it refers to.
	sizes map[*yaml.Node]int
}

const inProgress = -1

// size is the expanded size of n, saturating; cycle is the alias that
// refers to a node it lies inside, when there is one.
func (w *aliasWalk) size(n *yaml.Node) (s int, cycle *yaml.Node) {
	if s, ok := w.sizes[n]; ok {
		if s == inProgress {
			return 0, n
		}
		return s, nil
	}
	w.sizes[n] = inProgress
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if t, ok := w.sizes[n.Alias]; ok && t == inProgress {
			return 0, n
		}
		s, cycle = w.size(n.Alias)
	} else {
		s = 1
		for _, c := range n.Content {
			cs, cyc := w.size(c)
			if cyc != nil {
				return 0, cyc
			}
			s = satAdd(s, cs)
		}
	}
	if cycle != nil {
		return 0, cycle
	}
	w.sizes[n] = s
	return s, nil
}

// satAdd adds sizes without overflowing: nine more levels of laughs go
// past any int.
func satAdd(a, b int) int {
	const top = 1 << 60
	if a > top-b {
		return top
	}
	return a + b
}

package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
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

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

// Positions maps the dotted path of every value in a decoded file to its line.
type Positions struct {
	File  string
	lines map[string]int
	// stream, for a registry file read a batch at a time, finds the
	// lines inside the items of its sequences (stream.go).
	stream *streamed
}

// Line returns the line of path, or of its nearest ancestor that has one.
func (p *Positions) Line(path string) int {
	if p.stream != nil {
		if l, ok := p.stream.line(p.File, path); ok && l > 0 {
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
	return Problem{File: p.File, Line: p.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// DecodeFile reads a YAML file strictly into out (a pointer to a struct): every
// unknown key, type mismatch and unset ${ENV} reference is reported, each with
// file:line, rather than only the first.
func DecodeFile(path string, out any) (*Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: err.Error()}}
	}
	return Decode(path, data, out)
}

// largeFile is the size above which Decode trades CPU for memory.
const largeFile = 8 << 20

// Decode is DecodeFile on bytes already read; name is used in problems.
func Decode(name string, data []byte, out any) (*Positions, error) {
	pos := &Positions{File: name, lines: map[string]int{}}
	if len(data) > largeFile {
		// The YAML node tree of a large registry (300,000 accounts) is
		// about a gigabyte of short-lived objects: collect it as it goes
		// instead of letting the heap double first, and give the memory
		// back afterwards. Small files leave the collector alone.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
		defer debug.FreeOSMemory()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return pos, Problems{yamlProblem(name, err)}
	}
	var probs Problems
	decodeDoc(&doc, out, pos, &probs)
	if len(probs) > 0 {
		return pos, probs.sorted()
	}
	return pos, nil
}

// decodeDoc is Decode on a parsed document: it expands, checks and decodes
// it into out, records its lines in pos and appends its problems, unsorted.
func decodeDoc(doc *yaml.Node, out any, pos *Positions, probs *Problems) {
	if len(doc.Content) == 0 {
		return // empty file: all defaults
	}
	root := doc.Content[0]
	expandEnv(root, pos.File, probs)
	walk(root, reflect.TypeOf(out).Elem(), "", pos, probs)
	decodeNode(root, out, pos, probs)
}

// decodeNode decodes n into out and appends its type errors, each at the
// deepest path pos knows on its line.
func decodeNode(n *yaml.Node, out any, pos *Positions, probs *Problems) {
	if err := n.Decode(out); err != nil {
		for _, p := range typeProblems(pos.File, err) {
			p.Path = pos.pathAt(p.Line)
			*probs = append(*probs, p)
		}
	}
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func yamlProblem(file string, err error) Problem {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{File: file, Line: n, Msg: m[2]}
	}
	return Problem{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
}

func typeProblems(file string, err error) Problems {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return Problems{yamlProblem(file, err)}
	}
	var ps Problems
	for _, e := range te.Errors {
		ps = append(ps, yamlProblem(file, fmt.Errorf("%s", e)))
	}
	return ps
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expandEnv replaces ${VAR} and ${VAR:-default} in scalar values. A variable
// that is unset and has no default is a problem: starting with an empty
// secret or address is worse than not starting.
func expandEnv(n *yaml.Node, file string, probs *Problems) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v, ok := os.LookupEnv(m[1]); ok {
				return v
			}
			if strings.Contains(ref, ":-") {
				return m[2]
			}
			*probs = append(*probs, Problem{File: file, Line: n.Line, Msg: fmt.Sprintf("environment variable %s is not set", m[1])})
			return ""
		})
		return
	}
	for _, c := range n.Content {
		expandEnv(c, file, probs)
	}
}

// walk records the line of every value and reports keys that the target type
// does not have.
func walk(n *yaml.Node, t reflect.Type, path string, pos *Positions, probs *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if path != "" {
		pos.lines[path] = n.Line
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type reads its own node
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := fieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			p := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				*probs = append(*probs, Problem{File: pos.File, Line: k.Line, Path: p, Msg: fmt.Sprintf("unknown key %q", k.Value)})
				continue
			}
			pos.lines[p] = k.Line
			walk(v, ft, p, pos, probs)
			pos.lines[p] = k.Line
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, probs)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			walk(v, t.Elem(), p, pos, probs)
			pos.lines[p] = k.Line
		}
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// fieldCache holds yamlFields per struct type: a registry of 300,000
// accounts walks the same few types millions of times.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := yamlFields(t)
	fieldCache.Store(t, f)
	return f
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

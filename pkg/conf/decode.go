package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Decoder decodes YAML strictly into Go values and collects every problem
// it meets: unknown keys, values of the wrong type, unset ${ENV}
// references, files that cannot be read and environment variables that are
// not set, each with file:line. One Decoder serves one file.
type Decoder struct {
	Pos *Positions
	// Dir is the directory relative File values are resolved against: the
	// config file's. Empty leaves them as written.
	Dir   string
	probs Problems
}

// NewDecoder returns a decoder for file whose relative paths are resolved
// against dir.
func NewDecoder(file, dir string) *Decoder {
	return &Decoder{Pos: NewPositions(file), Dir: dir}
}

// Problems returns what was found so far, in the order found.
func (d *Decoder) Problems() Problems { return d.probs }

// Err returns the problems found so far, sorted, or nil.
func (d *Decoder) Err() error { return d.probs.Err() }

// Add records problems found by a caller.
func (d *Decoder) Add(ps ...Problem) { d.probs = append(d.probs, ps...) }

// Problem records a problem located at path.
func (d *Decoder) Problem(path, format string, args ...any) {
	d.probs = append(d.probs, d.Pos.Problem(path, format, args...))
}

// Report returns a Report writing problems below base into d.
func (d *Decoder) Report(base string) *Report {
	return &Report{pos: d.Pos, base: base, probs: &d.probs}
}

// largeFile is the size above which decoding trades CPU for memory.
const largeFile = 8 << 20

// Document parses data as one YAML document and decodes it into out, a
// pointer to a struct. An empty document leaves out as it is (its defaults).
func (d *Decoder) Document(data []byte, out any) {
	if len(data) > largeFile {
		// The YAML node tree of a large registry (300,000 accounts) is
		// about a gigabyte of short-lived objects: collect it as it goes
		// instead of letting the heap double first, and give the memory
		// back afterwards. Small files leave the collector alone.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
		defer debug.FreeOSMemory()
	}
	doc, err := Parse(d.Pos.File, data)
	if err != nil {
		d.probs = append(d.probs, err.(Problems)...)
		return
	}
	d.Root(doc, out)
}

// Root decodes a parsed document (as Parse gives it: its aliases checked)
// into out, expanding its environment references first.
func (d *Decoder) Root(doc *yaml.Node, out any) {
	if len(doc.Content) == 0 {
		return // empty file: all defaults
	}
	root := doc.Content[0]
	d.Expand(root)
	d.Node(root, "", out)
}

// Node decodes n, the value at path, into out (a pointer): it checks n's
// keys against out's type, decodes it, and resolves and checks out's File
// and Env values. Environment references must have been expanded (Expand).
func (d *Decoder) Node(n *yaml.Node, path string, out any) {
	d.Check(n, reflect.TypeOf(out).Elem(), path)
	d.Into(n, out)
	d.Finish(out, path)
}

// Section decodes a plugin's section, found at path, into out, as Node
// does. An absent section leaves out as it is.
func (d *Decoder) Section(s Section, path string, out any) {
	if s.node == nil {
		d.Finish(out, path)
		return
	}
	d.Node(s.node, path, out)
}

// Into decodes n into out and records its type errors, each at the deepest
// path known on its line. It neither checks keys nor resolves paths.
func (d *Decoder) Into(n *yaml.Node, out any) {
	if err := n.Decode(out); err != nil {
		for _, p := range typeProblems(d.Pos.File, err) {
			p.Path = d.Pos.pathAt(p.Line)
			d.probs = append(d.probs, p)
		}
	}
}

// DecodeFile reads a YAML file strictly into out (a pointer to a struct),
// resolving relative paths against the file's directory. The error, when not
// nil, is a Problems listing every problem with file:line.
func DecodeFile(path string, out any) (*Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return NewPositions(path), Problems{{File: path, Msg: unwrapPathError(err).Error()}}
	}
	return Decode(path, data, out)
}

// Decode is DecodeFile on bytes already read; name is used in problems and
// its directory resolves relative paths.
func Decode(name string, data []byte, out any) (*Positions, error) {
	d := NewDecoder(name, filepath.Dir(name))
	d.Document(data, out)
	return d.Pos, d.Err()
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

// Expand replaces ${VAR} and ${VAR:-default} in the scalar values below n.
// A variable that is unset and has no default is a problem: starting with
// an empty secret or address is worse than not starting.
func (d *Decoder) Expand(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v, ok := os.LookupEnv(m[1]); ok {
				return v
			}
			if strings.Contains(ref, ":-") {
				return m[2]
			}
			d.probs = append(d.probs, Problem{File: d.Pos.File, Line: n.Line, Msg: fmt.Sprintf("environment variable %s is not set", m[1])})
			return ""
		})
		return
	}
	for _, c := range n.Content {
		d.Expand(c)
	}
}

// Check records the line of every value below n, the value at path, and
// reports the keys that t, the type it decodes into, does not have.
func (d *Decoder) Check(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.Pos.set(path, n.Line)
	if t == sectionType {
		d.lines(n, path) // its owner checks its keys
		return
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type reads its own node
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fs := fieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			p := Join(path, k.Value)
			ft, ok := fs.named[k.Value]
			if !ok && fs.rest == nil {
				d.probs = append(d.probs, Problem{File: d.Pos.File, Line: k.Line, Path: p, Msg: fmt.Sprintf("unknown key %q", k.Value)})
				continue
			}
			if !ok {
				ft = fs.rest
			}
			d.Pos.set(p, k.Line)
			d.Check(v, ft, p)
			d.Pos.set(p, k.Line)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			d.Check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := Join(path, k.Value)
			d.Check(v, t.Elem(), p)
			d.Pos.set(p, k.Line)
		}
	}
}

// lines records the line of every value below n without judging its keys.
func (d *Decoder) lines(n *yaml.Node, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.Pos.set(path, n.Line)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := Join(path, k.Value)
			d.lines(v, p)
			d.Pos.set(p, k.Line)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.lines(c, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// fields are a struct type's YAML keys, and the element type of its
// inline map, which takes every other key, when it has one.
type fields struct {
	named map[string]reflect.Type
	rest  reflect.Type
}

// fieldCache holds fields per struct type: a registry of 300,000 accounts
// walks the same few types millions of times.
var fieldCache sync.Map // reflect.Type → fields

func fieldsOf(t reflect.Type) fields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(fields)
	}
	f := fields{named: map[string]reflect.Type{}}
	yamlFields(t, &f)
	fieldCache.Store(t, f)
	return f
}

func yamlFields(t reflect.Type, out *fields) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, inline := yamlName(f)
		if name == "-" {
			continue
		}
		if inline {
			if f.Type.Kind() == reflect.Map {
				out.rest = f.Type.Elem()
			} else {
				yamlFields(f.Type, out)
			}
			continue
		}
		out.named[name] = f.Type
	}
}

// yamlName is the key of struct field f, as yaml.v3 spells it, and whether
// the field is inline.
func yamlName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(opts, "inline") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

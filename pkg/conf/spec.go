package conf

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Field is one key of a config type, as the reference documents it. The
// spec of a type is its struct fields: the yaml tag names the key, the doc
// tag says what it does, the example tag shows a value, and the value the
// type's defaults give it is its default. A doc tag of "-" leaves the key
// out: one still read only to say where it moved.
type Field struct {
	// Key is the path below the section: "timeout", "auth.header",
	// "keys[].id" for the items of a list, "fields.<name>" for map keys.
	Key     string
	Type    string
	Default string
	Doc     string
	Example string
}

// Describe lists the keys of v, a struct or a pointer to one holding its
// defaults, in declaration order, nested keys after their parent.
func Describe(v any) []Field {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			rv = reflect.New(rv.Type().Elem())
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	describe(rv, "", &out, map[reflect.Type]bool{})
	return out
}

// describe lists the keys of struct v below prefix; open holds the struct
// types being described, so a recursive type (a route's routes) is
// described once.
func describe(v reflect.Value, prefix string, out *[]Field, open map[reflect.Type]bool) {
	t := v.Type()
	if open[t] {
		return
	}
	open[t] = true
	defer delete(open, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, inline := yamlName(f)
		if name == "-" || f.Tag.Get("doc") == "-" {
			continue // not a key, or one kept only to say where it moved
		}
		fv := v.Field(i)
		if inline {
			if f.Type.Kind() == reflect.Map {
				describeValue(reflect.New(f.Type.Elem()).Elem(), Join(prefix, "<name>"), f, out, open)
				continue
			}
			describe(fv, prefix, out, open)
			continue
		}
		describeValue(fv, Join(prefix, name), f, out, open)
	}
}

func describeValue(v reflect.Value, key string, f reflect.StructField, out *[]Field, open map[reflect.Type]bool) {
	t := v.Type()
	field := Field{Key: key, Type: TypeName(t), Default: defaultOf(v), Doc: f.Tag.Get("doc"), Example: f.Tag.Get("example")}
	elem := deref(t)
	var inner reflect.Type
	switch {
	case isLeaf(elem):
	case elem.Kind() == reflect.Struct:
		inner = elem
	case elem.Kind() == reflect.Slice || elem.Kind() == reflect.Array || elem.Kind() == reflect.Map:
		if e := deref(elem.Elem()); e.Kind() == reflect.Struct && !isLeaf(e) {
			inner = e
		}
	}
	if inner != nil && open[inner] {
		field.Type += " (nested like its parent)"
	}
	*out = append(*out, field)
	if inner == nil || open[inner] {
		return
	}
	switch {
	case elem.Kind() == reflect.Struct:
		if t.Kind() == reflect.Pointer {
			v = reflect.New(elem).Elem()
		}
		describe(v, key, out, open)
	case elem.Kind() == reflect.Map:
		describe(reflect.New(inner).Elem(), key+".<name>", out, open)
	default:
		describe(reflect.New(inner).Elem(), key+"[]", out, open)
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isLeaf reports whether values of t are written as one scalar.
func isLeaf(t reflect.Type) bool {
	switch t {
	case durationType, byteSizeType, fileType, envType, sectionType:
		return true
	}
	return t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map
}

var (
	durationType = reflect.TypeFor[Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

// TypeName is how the reference names the type of a key.
func TypeName(t reflect.Type) string {
	t = deref(t)
	switch t {
	case durationType:
		return "duration"
	case byteSizeType:
		return "size"
	case fileType:
		return "file"
	case envType:
		return "env var"
	case sectionType:
		return "section"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if deref(t.Elem()).Kind() == reflect.Struct && !isLeaf(deref(t.Elem())) {
			return "list"
		}
		return "list of " + plural(TypeName(t.Elem()))
	case reflect.Map:
		if deref(t.Elem()).Kind() == reflect.Struct && !isLeaf(deref(t.Elem())) {
			return "map"
		}
		return "map of " + plural(TypeName(t.Elem()))
	case reflect.Struct:
		return "mapping"
	}
	return t.Kind().String()
}

func plural(s string) string {
	switch {
	case strings.HasPrefix(s, "list") || strings.HasPrefix(s, "map"):
		return s
	case strings.HasSuffix(s, "s"):
		return s + "es"
	}
	return s + "s"
}

// defaultOf writes a default value as it would be written in the file;
// a zero value is "" (booleans say false).
func defaultOf(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Type() {
	case durationType:
		if v.Int() == 0 {
			return ""
		}
		return Duration(v.Int()).String()
	case byteSizeType:
		if v.Int() == 0 {
			return ""
		}
		return ByteSize(v.Int()).String()
	case sectionType:
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() == 0 {
			return ""
		}
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() == 0 {
			return ""
		}
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		if v.Float() == 0 {
			return ""
		}
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 || !isLeaf(deref(v.Type().Elem())) {
			return ""
		}
		items := make([]string, v.Len())
		for i := range items {
			items[i] = defaultOf(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case reflect.Map:
		if v.Len() == 0 || !isLeaf(deref(v.Type().Elem())) {
			return ""
		}
		var items []string
		for _, k := range v.MapKeys() {
			items = append(items, fmt.Sprintf("%v: %s", k.Interface(), defaultOf(v.MapIndex(k))))
		}
		slices.Sort(items)
		return "{" + strings.Join(items, ", ") + "}"
	}
	return ""
}

// Markdown writes fields as a table: key (below section), type, default
// and description with its example.
func Markdown(section string, fields []Field) string {
	var b strings.Builder
	b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
	for _, f := range fields {
		doc := f.Doc
		if f.Example != "" {
			doc += " Example: `" + f.Example + "`."
		}
		def := ""
		if f.Default != "" {
			def = "`" + f.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", cell(Join(section, f.Key)), f.Type, cell(def), cell(doc))
	}
	return b.String()
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// File is a path in the configuration. A relative one is relative to the
// config file's directory; decoding resolves it to an absolute path and
// reports a file that cannot be read. Empty means none.
type File string

// Env names an environment variable holding a value (a secret, mostly);
// decoding reports one that is not set. Empty means none.
type Env string

// Secret reads a secret from file (trailing newline trimmed) or else from
// the environment variable env; file wins when both are set. Neither set is
// an empty result, not an error. Secrets are read when used, never logged.
func Secret(file File, env Env) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(string(file))
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	if env != "" {
		v, ok := os.LookupEnv(string(env))
		if !ok {
			return nil, fmt.Errorf("secret: environment variable %s is not set", env)
		}
		return []byte(v), nil
	}
	return nil, nil
}

var (
	fileType = reflect.TypeFor[File]()
	envType  = reflect.TypeFor[Env]()
)

// Finish resolves the File values inside out (a pointer), the value at
// path, against the decoder's directory, and reports files that cannot be
// read and environment variables that are not set. Node and Section call
// it; a caller that builds a value by other means may too.
func (d *Decoder) Finish(out any, path string) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	d.finish(v.Elem(), path)
}

func (d *Decoder) finish(v reflect.Value, path string) {
	switch v.Type() {
	case fileType:
		f := v.String()
		if f == "" {
			return
		}
		resolved := f
		if d.Dir != "" && !filepath.IsAbs(f) {
			resolved = filepath.Join(d.Dir, f)
		}
		if abs, err := filepath.Abs(resolved); err == nil {
			resolved = abs
		}
		if _, err := os.Stat(resolved); err != nil {
			d.Problem(path, "cannot read %q: %v", f, unwrapPathError(err))
		}
		v.SetString(resolved)
		return
	case envType:
		if name := v.String(); name != "" {
			if _, ok := os.LookupEnv(name); !ok {
				d.Problem(path, "environment variable %s is not set", name)
			}
		}
		return
	case sectionType:
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			d.finish(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			name, inline := yamlName(f)
			switch {
			case name == "-":
			case inline:
				d.finish(v.Field(i), path)
			default:
				d.finish(v.Field(i), Join(path, name))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			d.finish(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || !holdsPaths(v.Type().Elem()) {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			d.finish(e, Join(path, k.String()))
			v.SetMapIndex(k, e)
		}
	}
}

// holdsPaths reports whether values of t can hold a File or an Env, so
// maps of anything else are not copied for nothing.
func holdsPaths(t reflect.Type) bool {
	seen := map[reflect.Type]bool{}
	var holds func(t reflect.Type) bool
	holds = func(t reflect.Type) bool {
		if t == fileType || t == envType {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			return holds(t.Elem())
		case reflect.Interface:
			return true
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				if f := t.Field(i); (f.IsExported() || f.Anonymous) && holds(f.Type) {
					return true
				}
			}
		}
		return false
	}
	return holds(t)
}

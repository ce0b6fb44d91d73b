package conf

import (
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"
)

// Section is a part of the file that a plugin owns: the file's layout
// keeps it as YAML, checks none of its keys, and hands it to the plugin's
// config type with Decoder.Section, which judges it as strictly as the rest.
// The zero Section is an absent one.
type Section struct {
	node *yaml.Node
}

var sectionType = reflect.TypeFor[Section]()

// UnmarshalYAML keeps the node for its owner.
func (s *Section) UnmarshalYAML(n *yaml.Node) error {
	s.node = n
	return nil
}

// IsZero reports whether the section was absent from the file.
func (s Section) IsZero() bool { return s.node == nil }

// Line is where the section starts, 0 when absent.
func (s Section) Line() int {
	if s.node == nil {
		return 0
	}
	return s.node.Line
}

// Mapping reports whether the section is a mapping (key: value pairs).
func (s Section) Mapping() bool { return s.node != nil && s.node.Kind == yaml.MappingNode }

// Keys lists the section's keys in file order, when it is a mapping.
func (s Section) Keys() []string {
	if !s.Mapping() {
		return nil
	}
	keys := make([]string, 0, len(s.node.Content)/2)
	for i := 0; i+1 < len(s.node.Content); i += 2 {
		keys = append(keys, s.node.Content[i].Value)
	}
	return keys
}

// Get returns the value of key as a section of its own, zero when the
// section is not a mapping or has no such key.
func (s Section) Get(key string) Section {
	if !s.Mapping() {
		return Section{}
	}
	for i := 0; i+1 < len(s.node.Content); i += 2 {
		if s.node.Content[i].Value == key {
			return Section{node: s.node.Content[i+1]}
		}
	}
	return Section{}
}

// Scalar returns the section's value when it is a scalar.
func (s Section) Scalar() (string, bool) {
	if s.node == nil || s.node.Kind != yaml.ScalarNode {
		return "", false
	}
	return s.node.Value, true
}

// Without returns the section with keys left out, for a layout that reads
// some keys of a section itself and hands the rest to a plugin. A section
// that is not a mapping is returned as it is.
func (s Section) Without(keys ...string) Section { return s.filter(false, keys) }

// Only returns the section with only keys kept; a section that is not a
// mapping is returned as it is.
func (s Section) Only(keys ...string) Section { return s.filter(true, keys) }

func (s Section) filter(keep bool, keys []string) Section {
	if !s.Mapping() {
		return s
	}
	n := *s.node
	n.Content = make([]*yaml.Node, 0, len(s.node.Content))
	for i := 0; i+1 < len(s.node.Content); i += 2 {
		if slices.Contains(keys, s.node.Content[i].Value) == keep {
			n.Content = append(n.Content, s.node.Content[i], s.node.Content[i+1])
		}
	}
	return Section{node: &n}
}

// SectionOf parses data as a section, for tests and samples; name and
// lines are as in a file.
func SectionOf(data []byte) (Section, error) {
	doc, err := Parse("", data)
	if err != nil {
		return Section{}, err
	}
	if len(doc.Content) == 0 {
		return Section{}, nil
	}
	return Section{node: doc.Content[0]}, nil
}

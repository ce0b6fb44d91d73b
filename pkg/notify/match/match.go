// Package match holds label matchers as Alertmanager writes them
// (name="value", name!="value", name=~"re", name!~"re"), shared by the
// routing tree, silences, inhibition rules and the API's filters.
package match

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/govwatch/govwatch/pkg/model"
)

// Operators.
const (
	Equal     = "="
	NotEqual  = "!="
	Regexp    = "=~"
	NotRegexp = "!~"
)

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ValidLabelName reports whether s may name a label.
func ValidLabelName(s string) bool { return labelName.MatchString(s) }

// Matcher is one label matcher. Regular expressions are anchored at both ends.
type Matcher struct {
	Name  string
	Op    string
	Value string
	re    *regexp.Regexp
}

// New builds a matcher, compiling the value when op is a regex operator.
func New(name, op, value string) (*Matcher, error) {
	if !labelName.MatchString(name) {
		return nil, fmt.Errorf("invalid label name %q", Clip(name))
	}
	m := &Matcher{Name: name, Op: op, Value: value}
	switch op {
	case Equal, NotEqual:
	case Regexp, NotRegexp:
		re, err := compile(value)
		if err != nil {
			return nil, err
		}
		m.re = re
	default:
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	return m, nil
}

// Limits of a regex matcher: a label value is short, and a pattern any
// token may send (a silence, filter=) must not cost the process its memory.
const (
	MaxRegexBytes = 1024
	maxRegexInsts = 10_000
)

// compile compiles a matcher's regex, anchored, within the limits.
func compile(value string) (*regexp.Regexp, error) {
	if len(value) > MaxRegexBytes {
		return nil, fmt.Errorf("regex of %d bytes: at most %d", len(value), MaxRegexBytes)
	}
	expr := "^(?:" + value + ")$"
	tree, err := syntax.Parse(expr, syntax.Perl)
	if se := (*syntax.Error)(nil); errors.As(err, &se) {
		// The parser quotes the culprit, which may be all of the pattern.
		err = &syntax.Error{Code: se.Code, Expr: Clip(se.Expr)}
	}
	if err != nil {
		return nil, fmt.Errorf("bad regex %q: %w", Clip(value), err)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, fmt.Errorf("bad regex %q: %w", Clip(value), err)
	}
	if n := len(prog.Inst); n > maxRegexInsts {
		return nil, fmt.Errorf("regex %q is too complex: %d instructions, at most %d", Clip(value), n, maxRegexInsts)
	}
	return regexp.Compile(expr)
}

// Clip shortens what a client sent to quote it in an error: an answer says
// what is wrong, it does not send back a request of a megabyte.
func Clip(s string) string { return truncate(s, 64) }

func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// Parse reads one matcher such as severity="critical" or {unit=~"fz.*"}.
// The value may be quoted (Go string syntax) or bare.
func Parse(s string) (*Matcher, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"))
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return nil, fmt.Errorf("matcher %q: want name=value, name!=value, name=~re or name!~re", Clip(s))
	}
	name := strings.TrimSpace(s[:i])
	rest := s[i:]
	var op string
	for _, o := range []string{Regexp, NotRegexp, NotEqual, Equal} {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, fmt.Errorf("matcher %q: want name=value, name!=value, name=~re or name!~re", Clip(s))
	}
	value := strings.TrimSpace(rest[len(op):])
	if strings.HasPrefix(value, `"`) {
		v, err := strconv.Unquote(value)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: bad quoted value: %w", Clip(s), err)
		}
		value = v
	}
	m, err := New(name, op, value)
	if err != nil {
		return nil, fmt.Errorf("matcher %q: %w", Clip(s), err)
	}
	return m, nil
}

// Matches reports whether the labels satisfy m; an absent label is "".
func (m *Matcher) Matches(ls model.LabelSet) bool {
	v := ls[m.Name]
	switch m.Op {
	case Equal:
		return v == m.Value
	case NotEqual:
		return v != m.Value
	case Regexp:
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}

// String writes m back in Alertmanager's syntax.
func (m *Matcher) String() string { return m.Name + m.Op + strconv.Quote(m.Value) }

// Matchers match when all of them do; none matches everything.
type Matchers []*Matcher

// Matches reports whether every matcher matches ls.
func (ms Matchers) Matches(ls model.LabelSet) bool {
	for _, m := range ms {
		if !m.Matches(ls) {
			return false
		}
	}
	return true
}

// ParseAll parses each string with Parse.
func ParseAll(ss []string) (Matchers, error) {
	out := make(Matchers, 0, len(ss))
	for _, s := range ss {
		m, err := Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Equals turns a map of label equalities (a route's or rule's `match`) into matchers.
func Equals(m map[string]string) Matchers {
	out := make(Matchers, 0, len(m))
	for k, v := range m {
		out = append(out, &Matcher{Name: k, Op: Equal, Value: v})
	}
	return out
}

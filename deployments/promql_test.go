package deployments

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// selector is a metric named in a query, with the labels its matchers use.
type selector struct {
	name   string
	labels []string
}

// references are the metrics and labels one PromQL expression uses.
type references struct {
	selectors []selector
	grouping  []string // labels in by, without, on, ignoring, group_left, group_right
}

// PromQL words that are not metric names when not followed by "(".
var (
	aggregations = set("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
		"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio")
	keywords     = set("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "start", "end")
	groupingKeys = set("by", "without", "on", "ignoring", "group_left", "group_right")
)

func set(words ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[w] = true
	}
	return m
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// readPromQL lists the metric names, matcher labels and grouping labels of a
// PromQL expression. It reads only as much of PromQL as that needs: strings,
// ranges and numbers are skipped, a word followed by "(" is a function, and
// the rest are metric names. Syntax is promtool's job (see TestQueriesParse).
func readPromQL(q string) (references, error) {
	var refs references
	i := 0
	skipSpace := func() {
		for i < len(q) && strings.ContainsRune(" \t\r\n", rune(q[i])) {
			i++
		}
	}
	skipString := func() error {
		quote := q[i]
		for i++; i < len(q); i++ {
			if q[i] == '\\' && quote != '`' {
				i++
				continue
			}
			if q[i] == quote {
				i++
				return nil
			}
		}
		return fmt.Errorf("unterminated string in %q", q)
	}
	ident := func() string {
		start := i
		for i < len(q) && isIdent(q[i]) {
			i++
		}
		return q[start:i]
	}
	// names reads a bracketed list whose entries start with a name, from
	// its opening bracket to closer, and returns the names; rest reads
	// what follows a name inside an entry, when entries have more.
	names := func(closer byte, what string, rest func() error) ([]string, error) {
		var out []string
		i++ // the opening bracket
		for {
			skipSpace()
			if i >= len(q) {
				return nil, fmt.Errorf("unterminated %s in %q", what, q)
			}
			switch {
			case q[i] == closer:
				i++
				return out, nil
			case q[i] == ',':
				i++
			case isIdentStart(q[i]):
				out = append(out, ident())
				if rest != nil {
					if err := rest(); err != nil {
						return nil, err
					}
				}
			default:
				return nil, fmt.Errorf("unexpected %q in %s at %d of %q", q[i], what, i, q)
			}
		}
	}
	// identList reads "(a, b, …)" after a grouping keyword.
	identList := func() ([]string, error) { return names(')', "label list", nil) }
	// matchers reads `{a="x", b=~"y"}` and returns the label names.
	matchers := func() ([]string, error) {
		return names('}', "matchers", func() error {
			skipSpace()
			for i < len(q) && strings.ContainsRune("=!~", rune(q[i])) {
				i++
			}
			skipSpace()
			if i >= len(q) || !strings.ContainsRune("\"'`", rune(q[i])) {
				return fmt.Errorf("matcher without a quoted value at %d of %q", i, q)
			}
			return skipString()
		})
	}

	for {
		skipSpace()
		if i >= len(q) {
			return refs, nil
		}
		c := q[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return refs, err
			}
		case c == '[':
			end := strings.IndexByte(q[i:], ']')
			if end < 0 {
				return refs, fmt.Errorf("unterminated range in %q", q)
			}
			i += end + 1
		case c == '{':
			labels, err := matchers()
			if err != nil {
				return refs, err
			}
			if !slices.Contains(labels, "__name__") {
				return refs, fmt.Errorf("selector without a metric name in %q", q)
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(q) && (isIdent(q[i]) || q[i] == '.') {
				i++
			}
		case isIdentStart(c):
			word := ident()
			skipSpace()
			next := byte(0)
			if i < len(q) {
				next = q[i]
			}
			switch {
			case groupingKeys[word] && next == '(':
				labels, err := identList()
				if err != nil {
					return refs, err
				}
				refs.grouping = append(refs.grouping, labels...)
			case groupingKeys[word], keywords[word], aggregations[word]:
			case next == '(':
				// a function call
			default:
				s := selector{name: word}
				if next == '{' {
					labels, err := matchers()
					if err != nil {
						return refs, err
					}
					s.labels = labels
				}
				refs.selectors = append(refs.selectors, s)
			}
		default:
			i++ // operators, parentheses, commas
		}
	}
}

func TestReadPromQL(t *testing.T) {
	tests := []struct {
		name     string
		q        string
		want     []selector
		grouping []string
		err      string
	}{
		{
			name: "plain selector",
			q:    `up`,
			want: []selector{{name: "up"}},
		},
		{
			name: "matchers with operators, commas and quotes in values",
			q:    `govwatch_registry_accounts{status=~"suspended|closed", region!="a,b}\"c"}`,
			want: []selector{{name: "govwatch_registry_accounts", labels: []string{"status", "region"}}},
		},
		{
			name:     "aggregation, function, range and grafana variable",
			q:        `sum by (platform, result) (rate(govwatch_collector_polls_total{result="error"}[$__rate_interval]))`,
			want:     []selector{{name: "govwatch_collector_polls_total", labels: []string{"result"}}},
			grouping: []string{"platform", "result"},
		},
		{
			name:     "aggregation clause after the body",
			q:        `max(govwatch_bus_consumer_pending_messages) without (instance)`,
			want:     []selector{{name: "govwatch_bus_consumer_pending_messages"}},
			grouping: []string{"instance"},
		},
		{
			name:     "binary operators, on, numbers, durations, offset",
			q:        `a > 0.5 and on () b offset 1h or vector(0) * 1e3`,
			want:     []selector{{name: "a"}, {name: "b"}},
			grouping: nil,
		},
		{
			name: "histogram_quantile over buckets",
			q:    `histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))`,
			want: []selector{{name: "x_bucket"}}, grouping: []string{"le"},
		},
		{name: "selector without name", q: `{job="x"}`, err: "without a metric name"},
		{name: "unterminated matchers", q: `up{job="x"`, err: "unterminated matchers"},
		{name: "unterminated label list", q: `sum by (job`, err: "unterminated label list"},
		{name: "matcher without a value", q: `up{job=}`, err: "matcher without a quoted value"},
		{name: "unterminated string", q: `up{job="x}`, err: "unterminated string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPromQL(tc.q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if fmt.Sprint(got.selectors) != fmt.Sprint(tc.want) {
				t.Errorf("got selectors %v, want %v", got.selectors, tc.want)
			}
			if fmt.Sprint(got.grouping) != fmt.Sprint(tc.grouping) {
				t.Errorf("got grouping %v, want %v", got.grouping, tc.grouping)
			}
		})
	}
}

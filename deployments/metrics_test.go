// Package deployments holds govwatch's deployment files (Dockerfile,
// docker-compose, Kubernetes, Prometheus, Grafana) and the tests that hold
// them against the code: every metric and label a dashboard or a rule uses is
// one govwatch exports, and docs/metrics.md lists every exported metric.
package deployments

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/simulate"
)

// metric is what is known of one exported metric family.
type metric struct {
	typ         string          // counter, gauge, histogram, summary, untyped; "" when unknown
	labels      map[string]bool // label names, without le and quantile
	labelsKnown bool
	where       []string // where it was found: file:line or /metrics
}

func (m *metric) addLabels(labels []string, known bool) {
	if m.labels == nil {
		m.labels = map[string]bool{}
	}
	for _, l := range labels {
		m.labels[l] = true
	}
	m.labelsKnown = m.labelsKnown || known
}

// catalogue is every metric a govwatch process exports, by family name.
type catalogue map[string]*metric

func (c catalogue) add(name, typ string, labels []string, labelsKnown bool, where string) {
	m := c[name]
	if m == nil {
		m = &metric{}
		c[name] = m
	}
	if m.typ == "" || m.typ == "untyped" {
		m.typ = typ
	}
	m.addLabels(labels, labelsKnown)
	m.where = append(m.where, where)
}

// lookup resolves a series name to its family (x for x_bucket, x_sum, x_count
// of a histogram x) and the labels such a series has beyond the family's.
func (c catalogue) lookup(series string) (m *metric, extra []string) {
	if m := c[series]; m != nil {
		if m.typ == "summary" {
			return m, []string{"quantile"}
		}
		return m, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if m := c[base]; ok && m != nil && (m.typ == "histogram" || m.typ == "summary") {
			if suffix == "_bucket" && m.typ == "histogram" {
				return m, []string{"le"}
			}
			if suffix != "_bucket" {
				return m, nil
			}
		}
	}
	return nil, nil
}

// Labels Prometheus adds to every scraped series, and series it makes itself.
var (
	targetLabels = []string{"job", "instance"}
	synthetic    = map[string][]string{
		"up":                                    nil,
		"scrape_duration_seconds":               nil,
		"scrape_samples_scraped":                nil,
		"scrape_samples_post_metric_relabeling": nil,
		"scrape_series_added":                   nil,
		"ALERTS":                                {"alertname", "alertstate", "severity"},
		"ALERTS_FOR_STATE":                      {"alertname", "severity"},
	}
)

// --- metrics declared in the source ---------------------------------------

var constructors = map[string]string{
	"NewCounter": "counter", "NewCounterVec": "counter", "NewCounterFunc": "counter",
	"NewGauge": "gauge", "NewGaugeVec": "gauge", "NewGaugeFunc": "gauge",
	"NewHistogram": "histogram", "NewHistogramVec": "histogram",
	"NewSummary": "summary", "NewSummaryVec": "summary",
	"NewUntypedFunc": "untyped",
}

// declarations are pkg/metric's calls: metric.CounterVec(r, "govwatch_…",
// help, labels...); a histogram's buckets stand before its labels.
var declarations = map[string]struct {
	typ      string
	labelsAt int // index of the first label argument; -1: the metric has none
}{
	"Counter": {"counter", -1}, "CounterVec": {"counter", 3},
	"Gauge": {"gauge", -1}, "GaugeVec": {"gauge", 3},
	"Histogram": {"histogram", -1}, "HistogramVec": {"histogram", 4},
}

const metricPkg = "github.com/govwatch/govwatch/pkg/metric"

// declared reads every non-test Go file under the module's pkg and cmd for
// metric.…(r, "govwatch_…", help, [buckets,] labels...),
// prometheus.New…(…Opts{Name: "govwatch_…"}, []string{labels}) and
// prometheus.NewDesc("govwatch_…", help, []string{labels}, …), so metrics that
// a short run never observes still count.
func declared(t *testing.T, root string) catalogue {
	t.Helper()
	c := catalogue{}
	fset := token.NewFileSet()
	for _, dir := range []string{"pkg", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			metricName := importName(f, metricPkg)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				rel, _ := filepath.Rel(root, fset.Position(call.Pos()).Filename)
				where := fmt.Sprintf("%s:%d", rel, fset.Position(call.Pos()).Line)
				decl, isDecl := declarations[sel.Sel.Name]
				pkg, _ := sel.X.(*ast.Ident)
				isDecl = isDecl && pkg != nil && metricName != "" && pkg.Name == metricName
				switch typ, isOpts := constructors[sel.Sel.Name]; {
				case isDecl:
					name, labels, ok := declaration(call, decl.labelsAt)
					if !ok {
						t.Errorf("%s: name the metric and its labels with string literals, so this test can read them", where)
						return true
					}
					if strings.HasPrefix(name, "govwatch_") {
						c.add(name, decl.typ, labels, true, where)
					}
				case isOpts && len(call.Args) > 0:
					name, ok := optsName(call.Args[0])
					if !ok || !strings.HasPrefix(name, "govwatch_") {
						return true
					}
					var labels []string
					known := true
					if strings.HasSuffix(sel.Sel.Name, "Vec") {
						labels, known = stringSlice(call.Args, 1)
					}
					c.add(name, typ, labels, known, where)
				case sel.Sel.Name == "NewDesc" && len(call.Args) >= 3:
					name, ok := stringLit(call.Args[0])
					if !ok || !strings.HasPrefix(name, "govwatch_") {
						return true
					}
					labels, known := stringSlice(call.Args, 2)
					c.add(name, "", labels, known, where)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("read the source: %v", err)
		}
	}
	return c
}

// declaration reads the name (the second argument) and the labels (from
// labelsAt on; none when it is -1) of a pkg/metric call; ok is false when
// they are not all string literals.
func declaration(call *ast.CallExpr, labelsAt int) (name string, labels []string, ok bool) {
	if len(call.Args) < 3 || call.Ellipsis.IsValid() {
		return "", nil, false
	}
	if name, ok = stringLit(call.Args[1]); !ok {
		return "", nil, false
	}
	for i := labelsAt; i >= 0 && i < len(call.Args); i++ {
		l, ok := stringLit(call.Args[i])
		if !ok {
			return "", nil, false
		}
		labels = append(labels, l)
	}
	return name, labels, true
}

// importName is the name file f uses for the package of path, or "" when
// f does not import it.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err != nil || p != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return filepath.Base(path)
	}
	return ""
}

// optsName joins Namespace, Subsystem and Name of a …Opts literal.
func optsName(e ast.Expr) (string, bool) {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", false
	}
	var parts [3]string
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		if key == nil {
			continue
		}
		i := slices.Index([]string{"Namespace", "Subsystem", "Name"}, key.Name)
		if i < 0 {
			continue
		}
		s, ok := stringLit(kv.Value)
		if !ok {
			return "", false
		}
		parts[i] = s
	}
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return strings.Join(nonEmpty, "_"), parts[2] != ""
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// stringSlice reads args[i] as a []string literal (or nil); known is false
// when the labels are not spelled out there.
func stringSlice(args []ast.Expr, i int) (labels []string, known bool) {
	if i >= len(args) {
		return nil, false
	}
	if id, ok := args[i].(*ast.Ident); ok && id.Name == "nil" {
		return nil, true
	}
	lit, ok := args[i].(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	for _, el := range lit.Elts {
		s, ok := stringLit(el)
		if !ok {
			return nil, false
		}
		labels = append(labels, s)
	}
	return labels, true
}

// --- metrics served by a running govwatch ---------------------------------

// served runs `govwatch run` in-process on the demo scenario until the
// pipeline has collected, analysed and notified, and returns its /metrics.
func served(t *testing.T, root string) string {
	t.Helper()
	sc, err := simulate.LoadScenario(filepath.Join(root, "configs/scenarios/demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sim := httptest.NewServer(simulate.New(sc, clockwork.NewRealClock()).Handler())
	defer sim.Close()

	dir := t.TempDir()
	reg, err := os.ReadFile(filepath.Join(root, "configs/registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	reg = []byte(strings.ReplaceAll(string(reg), "http://127.0.0.1:8080/simulate", sim.URL))
	cfgText := `data_dir: ` + filepath.Join(dir, "data") + `
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 4}
analyzer: {sweep: "@every 1s"}
notifier:
  receivers: [{name: console, console: {}}]
  route: {receiver: console}
`
	if err := os.WriteFile(filepath.Join(dir, "registry.yaml"), reg, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "govwatch.yaml"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "govwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	addr := runGovwatch(t, cfg)

	// The pipeline has run once every stage has counted something: polls,
	// analysed posts, a sweep, a delivered notification, a firing alert.
	ran := regexp.MustCompile(`(?m)^govwatch_notifier_notifications_total\{.*result="ok"\} [1-9]`)
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
		if ran.MatchString(text) && strings.Contains(text, "\ngovwatch_analyzer_sweeps_total ") &&
			strings.Contains(text, "\ngovwatch_notifier_active_alerts{") {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo pipeline did not deliver a notification within 60s; /metrics:\n%s", text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s`)

// parseExposition reads Prometheus' text format: # TYPE lines and samples.
func parseExposition(c catalogue, text string) error {
	types := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
			c.add(f[2], f[3], nil, false, "/metrics")
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			return fmt.Errorf("unreadable sample %q", line)
		}
		labels, err := labelNames(m[2])
		if err != nil {
			return fmt.Errorf("sample %q: %w", line, err)
		}
		labels = slices.DeleteFunc(labels, func(l string) bool { return l == "le" || l == "quantile" })
		family := m[1]
		if _, ok := types[family]; !ok {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(family, suffix); ok && types[base] != "" {
					family = base
				}
			}
		}
		c.add(family, types[family], labels, true, "/metrics")
	}
	return sc.Err()
}

// labelNames reads the names out of `{a="x",b="y"}`.
func labelNames(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	refs, err := readPromQL("x" + s)
	if err != nil || len(refs.selectors) != 1 {
		return nil, fmt.Errorf("labels %s: %v", s, err)
	}
	return refs.selectors[0].labels, nil
}

// --- what the deployment files use ----------------------------------------

// query is one PromQL expression and where it is.
type query struct {
	where string
	expr  string
}

// grafanaVariables replaces Grafana's variables with what they expand to.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$region", ".*")

var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// dashboardQueries returns every panel target and template variable query.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in grafana/dashboards (%v)", err)
	}
	type target struct {
		Expr string `json:"expr"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"` // rows
	}
	var out []query
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title      string  `json:"title"`
			Panels     []panel `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Query struct {
						Query string `json:"query"`
					} `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				for i, tg := range p.Targets {
					if tg.Expr == "" {
						t.Errorf("%s: panel %q target %d has no expr", f, p.Title, i)
						continue
					}
					out = append(out, query{fmt.Sprintf("%s: panel %q", f, p.Title), tg.Expr})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
		for _, v := range d.Templating.List {
			if m := labelValues.FindStringSubmatch(v.Query.Query); m != nil {
				out = append(out, query{fmt.Sprintf("%s: variable %s", f, v.Name), m[1] + `{` + m[2] + `!=""}`})
			} else if v.Query.Query != "" {
				t.Errorf("%s: variable %s: query %q is not label_values(metric, label)", f, v.Name, v.Query.Query)
			}
		}
	}
	return out
}

// ruleQueries returns every expression in the Prometheus rule files.
func ruleQueries(t *testing.T) []query {
	t.Helper()
	files, err := filepath.Glob("prometheus/rules/*.rules.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in prometheus/rules (%v)", err)
	}
	var out []query
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []struct {
				Rules []struct {
					Alert  string `yaml:"alert"`
					Record string `yaml:"record"`
					Expr   string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				out = append(out, query{fmt.Sprintf("%s: rule %s%s", f, r.Alert, r.Record), r.Expr})
			}
		}
	}
	return out
}

// checkQuery returns what q uses that c does not export.
func checkQuery(c catalogue, q query) []string {
	refs, err := readPromQL(grafanaVariables.Replace(q.expr))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", q.where, err)}
	}
	var problems []string
	available := map[string]bool{}
	for _, l := range targetLabels {
		available[l] = true
	}
	for _, s := range refs.selectors {
		var allowed map[string]bool
		if labels, ok := synthetic[s.name]; ok {
			allowed = map[string]bool{}
			for _, l := range append(slices.Clone(labels), targetLabels...) {
				allowed[l] = true
			}
			if s.name == "ALERTS" || s.name == "ALERTS_FOR_STATE" {
				allowed = nil // carry each rule's own labels
			}
		} else {
			m, extra := c.lookup(s.name)
			if m == nil {
				problems = append(problems, fmt.Sprintf("%s: metric %s is not exported by govwatch (query %s)", q.where, s.name, q.expr))
				continue
			}
			if !m.labelsKnown {
				allowed = nil
			} else {
				allowed = maps.Clone(m.labels)
				for _, l := range append(extra, targetLabels...) {
					allowed[l] = true
				}
			}
		}
		for l := range allowed {
			available[l] = true
		}
		if allowed == nil {
			available["*"] = true
			continue
		}
		for _, l := range s.labels {
			if l != "__name__" && !allowed[l] {
				problems = append(problems, fmt.Sprintf("%s: %s has no label %q (it has %s)", q.where, s.name, l, strings.Join(sorted(allowed), ", ")))
			}
		}
	}
	if !available["*"] {
		for _, l := range refs.grouping {
			if !available[l] {
				problems = append(problems, fmt.Sprintf("%s: groups by %q, which none of its metrics has (query %s)", q.where, l, q.expr))
			}
		}
	}
	return problems
}

func sorted(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	sort.Strings(out)
	return out
}

// --- docs/metrics.md --------------------------------------------------------

type docRow struct {
	typ    string
	labels []string
	line   int
}

var docRowRe = regexp.MustCompile("^\\| `(govwatch_[a-z0-9_]+)` \\| ([a-z]+) \\| ([^|]*) \\|")

func readDocs(t *testing.T, path string) map[string]docRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]docRow{}
	for i, line := range strings.Split(string(b), "\n") {
		m := docRowRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var labels []string
		for _, f := range strings.Split(m[3], ",") {
			if f = strings.Trim(strings.TrimSpace(f), "`"); f != "" && f != "—" {
				labels = append(labels, f)
			}
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s:%d: %s listed twice", path, i+1, m[1])
		}
		rows[m[1]] = docRow{typ: m[2], labels: labels, line: i + 1}
	}
	return rows
}

// --- the test -------------------------------------------------------------

// TestMetricsCrossCheck holds the dashboards, the alert rules and
// docs/metrics.md against the metrics govwatch really exports: those its
// source declares and those a running `govwatch run` serves after the demo
// pipeline ran.
func TestMetricsCrossCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts govwatch run; skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	c := declared(t, root)
	if len(c) == 0 {
		t.Fatal("found no govwatch_ metric in the source; the reader is broken")
	}
	// A metric declared with NewDesc and not served in the demo has no
	// known type; its doc row's type is then taken as it is.
	if err := parseExposition(c, served(t, root)); err != nil {
		t.Fatalf("/metrics: %v", err)
	}

	t.Run("dashboards and rules use exported metrics", func(t *testing.T) {
		qs := append(dashboardQueries(t), ruleQueries(t)...)
		for _, q := range qs {
			for _, p := range checkQuery(c, q) {
				t.Error(p)
			}
		}
		t.Logf("%d queries checked against %d metric families", len(qs), len(c))
	})

	t.Run("docs/metrics.md lists every govwatch metric", func(t *testing.T) {
		const doc = "../docs/metrics.md"
		rows := readDocs(t, doc)
		for _, name := range slices.Sorted(maps.Keys(c)) {
			if !strings.HasPrefix(name, "govwatch_") {
				continue
			}
			m := c[name]
			labels := sorted(m.labels)
			row, ok := rows[name]
			if !ok {
				t.Errorf("%s lacks %s (%s, labels %v, from %s): add a row", doc, name, m.typ, labels, strings.Join(slices.Compact(m.where), ", "))
				continue
			}
			if m.typ != "" && row.typ != m.typ {
				t.Errorf("%s:%d: %s is a %s, the doc says %s", doc, row.line, name, m.typ, row.typ)
			}
			if m.labelsKnown {
				docLabels := slices.Clone(row.labels)
				sort.Strings(docLabels)
				if !slices.Equal(docLabels, labels) {
					t.Errorf("%s:%d: %s has labels %v, the doc says %v", doc, row.line, name, labels, docLabels)
				}
			}
		}
		for name, row := range rows {
			if c[name] == nil {
				t.Errorf("%s:%d: %s is documented but govwatch does not export it", doc, row.line, name)
			}
		}
	})
}

// TestCheckQueryFindsProblems makes sure the cross-check can fail.
func TestCheckQueryFindsProblems(t *testing.T) {
	c := catalogue{}
	c.add("govwatch_collector_polls_total", "counter", []string{"platform", "result"}, true, "x.go:1")
	c.add("govwatch_collector_schedule_lag_seconds", "histogram", nil, true, "x.go:2")
	tests := []struct {
		expr string
		want string // "" = no problem
	}{
		{`sum by (platform) (rate(govwatch_collector_polls_total{result="error"}[5m]))`, ""},
		{`histogram_quantile(0.9, sum by (le) (rate(govwatch_collector_schedule_lag_seconds_bucket[5m])))`, ""},
		{`up{job=~"govwatch-.+"} == 0`, ""},
		{`sum by (instance) (govwatch_collector_polls_total)`, ""},
		{`rate(govwatch_collector_polls_failed_total[5m])`, "not exported"},
		{`govwatch_collector_polls_total{region="350100"}`, `no label "region"`},
		{`sum by (region) (govwatch_collector_polls_total)`, `groups by "region"`},
		{`govwatch_collector_schedule_lag_seconds_bucket{platform="weibo"}`, `no label "platform"`},
		{`govwatch_collector_polls_total_bucket`, "not exported"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got := strings.Join(checkQuery(c, query{"test", tc.expr}), "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got problems %q, want %q", got, tc.want)
			}
		})
	}
}

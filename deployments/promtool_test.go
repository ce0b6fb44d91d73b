package deployments

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool returns promtool's path, or skips the test where it is not
// installed (CI sets GOVWATCH_REQUIRE_PROMTOOL=1 and installs it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("GOVWATCH_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool not found and GOVWATCH_REQUIRE_PROMTOOL is set")
		}
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	return p
}

// TestQueriesParse has promtool parse every dashboard query, Grafana's
// variables expanded, by writing them as recording rules: a query Prometheus
// cannot parse would show an error in a panel.
func TestQueriesParse(t *testing.T) {
	bin := promtool(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboards\n    rules:\n")
	qs := dashboardQueries(t)
	for i, q := range qs {
		fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %q\n", i, grafanaVariables.Replace(q.expr))
	}
	f := filepath.Join(t.TempDir(), "dashboards.yml")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "check", "rules", f).CombinedOutput()
	if err != nil {
		// Name the panels behind the rule numbers promtool reports.
		var where strings.Builder
		for i, q := range qs {
			fmt.Fprintf(&where, "\n  query_%d = %s: %s", i, q.where, q.expr)
		}
		t.Fatalf("promtool check rules on the dashboards' queries: %v\n%s%s", err, out, where.String())
	}
	t.Logf("promtool parsed %d dashboard queries", len(qs))
}

// TestPrometheusFiles runs promtool on the scrape config, the rules and the
// rules' unit tests.
func TestPrometheusFiles(t *testing.T) {
	bin := promtool(t)
	rules, _ := filepath.Glob("prometheus/rules/*.rules.yml")
	tests, _ := filepath.Glob("prometheus/rules/*.test.yml")
	for _, args := range [][]string{
		{"check", "config", "prometheus/prometheus.yml"},
		append([]string{"check", "rules"}, rules...),
		append([]string{"test", "rules"}, tests...),
	} {
		if len(args) < 3 {
			t.Errorf("promtool %s: no files", strings.Join(args, " "))
			continue
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

package notify

import (
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/notify/match"
)

// statusFixture is the API fixture with a routing tree that groups by unit
// under a child route for critical alerts, and two receivers.
func statusFixture(t *testing.T) *apiFixture {
	t.Helper()
	f := newAPIFixture(t)
	ms, err := match.ParseAll([]string{`severity="critical"`})
	if err != nil {
		t.Fatal(err)
	}
	rt := &Route{Receiver: "duty", GroupBy: []string{"unit"}, GroupWait: 30 * time.Second,
		Routes: []*Route{{Receiver: "heads", Matchers: ms, Continue: true, GroupBy: []string{"unit", "alertname"}}}}
	_, f.srv = serveAPI(t, f.n.Notifier, APIOptions{Clock: f.n.clock, Log: f.n.log, Status: &Status{
		Version: "1.2.3", Replica: "notifier-0", Route: rt, Started: apiNow.Add(-time.Hour),
		Receivers: []ReceiverInfo{{Name: "duty", Channels: []string{"dingtalk", "sms"}, Fallback: "heads"}, {Name: "heads", Channels: []string{"email"}}},
	}})
	return f
}

func TestAlertmanagerStatus(t *testing.T) {
	f := statusFixture(t)
	var st amStatus
	if code := f.get(t, "/api/v2/status", &st); code != http.StatusOK {
		t.Fatalf("GET /api/v2/status = %d", code)
	}
	if st.Cluster.Status != "ready" || st.Cluster.Name != "notifier-0" || len(st.Cluster.Peers) != 1 || st.VersionInfo.Version != "1.2.3" ||
		st.VersionInfo.GoVersion == "" || !st.Uptime.Equal(apiNow.Add(-time.Hour)) {
		t.Errorf("status = %+v", st)
	}
	for _, want := range []string{"receiver: duty", "group_by:\n    - unit", "group_wait: 30s", "matchers:\n        - severity=\"critical\"",
		"continue: true", "  # channels: dingtalk, sms; fallback: heads\n  - name: duty\n", "  # channels: email\n  - name: heads\n"} {
		if !strings.Contains(st.Config.Original, want) {
			t.Errorf("config lacks %q:\n%s", want, st.Config.Original)
		}
	}
	var rs []receiverRef
	if code := f.get(t, "/api/v2/receivers", &rs); code != http.StatusOK || !slices.Equal(rs, []receiverRef{{"duty"}, {"heads"}}) {
		t.Errorf("GET /api/v2/receivers = %d %v", code, rs)
	}
}

func TestAlertmanagerGroups(t *testing.T) {
	f := statusFixture(t)
	f.seed(t)
	var gs []amGroup
	if code := f.get(t, "/api/v2/alerts/groups", &gs); code != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts/groups = %d", code)
	}
	var got []string
	for _, g := range gs {
		var names []string
		for _, a := range g.Alerts {
			names = append(names, a.Labels["alertname"])
		}
		slices.Sort(names)
		got = append(got, g.Receiver.Name+" "+groupKeyString(g.Labels)+" "+strings.Join(names, ","))
	}
	// The critical stale alert goes to heads, grouped by unit and
	// alertname; the others to the root's receiver, grouped by unit.
	want := []string{
		`duty {}:{unit="fz-gov"} privacy.phone`,
		`duty {}:{unit="fzcity-gov"} wording.typo`,
		`heads {}:{alertname="account.stale", unit="xm-gov"} account.stale`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if code := f.get(t, "/api/v2/alerts/groups?receiver=heads", &gs); code != http.StatusOK || len(gs) != 1 || gs[0].Receiver.Name != "heads" {
		t.Errorf("groups of heads = %d %+v", code, gs)
	}
	resp, err := http.Get(f.srv.URL + "/api/v2/alerts/groups?filter=%7Bbad")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad filter = %d, want 400", resp.StatusCode)
	}
}

// TestAmtool runs Alertmanager's own CLI against the API: config show,
// cluster show, alert query of a group and silence query.
func TestAmtool(t *testing.T) {
	if _, err := exec.LookPath("amtool"); err != nil {
		if os.Getenv("GOVWATCH_REQUIRE_AMTOOL") == "1" {
			t.Fatal("amtool is required (GOVWATCH_REQUIRE_AMTOOL=1) but not on PATH")
		}
		t.Skip("amtool not installed (Debian: prometheus-alertmanager)")
	}
	f := statusFixture(t)
	f.seed(t)
	amtool := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("amtool", append(args, "--alertmanager.url="+f.srv.URL)...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := amtool("config", "show"); !strings.Contains(out, "receiver: duty") || !strings.Contains(out, "- name: heads") {
		t.Errorf("amtool config show:\n%s", out)
	}
	if out := amtool("cluster", "show"); !strings.Contains(out, "ready") || !strings.Contains(out, "notifier-0") {
		t.Errorf("amtool cluster show:\n%s", out)
	}
	if out := amtool("config", "routes", "show"); !strings.Contains(out, "duty") {
		t.Errorf("amtool config routes show:\n%s", out)
	}
	if out := amtool("alert", "query", "unit=fz-gov"); !strings.Contains(out, "privacy.phone") || strings.Contains(out, "account.stale") {
		t.Errorf("amtool alert query unit=fz-gov:\n%s", out)
	}
	amtool("silence", "query")
}

package replay

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// TestReplay runs a reduced replay (100 accounts, 30 days) and wants exactly
// the scripted alerts; restarting the analyzer (store closed and reopened,
// detectors rebuilt) every few hundred events must change nothing.
func TestReplay(t *testing.T) {
	sweep, err := config.ParseSchedule("@every 12h")
	if err != nil {
		t.Fatal(err)
	}
	var first []Row
	for _, tc := range []struct {
		name    string
		restart int
	}{
		{"straight", 0},
		{"restart every 500 events", 500},
		{"restart every 97 events", 97},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Accounts: 100, Days: 30, Seed: 7, Sweep: sweep,
				RestartEvery: tc.restart, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range res.Mismatches {
				t.Errorf("%s %s (%s): got fired %d resolved %d, want fired %d resolved %d",
					m.Category, m.Account, m.Incident, m.GotFired, m.GotResolved, m.WantFired, m.WantResolved)
			}
			if tc.restart > 0 && res.Restarts != res.Events/tc.restart {
				t.Errorf("got %d restarts, want %d", res.Restarts, res.Events/tc.restart)
			}
			if first == nil {
				first = res.Rows
			} else if !reflect.DeepEqual(res.Rows, first) {
				t.Errorf("got outcome %+v, want the outcome without restarts %+v", res.Rows, first)
			}
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, err := generate(50, MinDays, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := generate(50, MinDays, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("got two different scripts from one seed, want the same")
	}
	c, err := generate(50, MinDays, 4)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.events, c.events) {
		t.Error("got the same events from seeds 3 and 4, want different")
	}
}

func TestGenerateRejects(t *testing.T) {
	for _, tc := range []struct {
		name           string
		accounts, days int
	}{
		{"too few accounts", 19, 30},
		{"too few days", 100, MinDays - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := generate(tc.accounts, tc.days, 1); err == nil {
				t.Errorf("generate(%d, %d): got no error, want one", tc.accounts, tc.days)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	want := []Expect{
		{Category: "account.stale", Account: "a1", Fired: 1, Resolved: 1},
		{Category: "privacy.phone", Account: "a2", Fired: 1, Resolved: 0},
	}
	for _, tc := range []struct {
		name     string
		got      map[key]*Mismatch
		mismatch int
	}{
		{"exact", map[key]*Mismatch{
			{"account.stale", "a1"}: {Category: "account.stale", Account: "a1", GotFired: 1, GotResolved: 1},
			{"privacy.phone", "a2"}: {Category: "privacy.phone", Account: "a2", GotFired: 1},
		}, 0},
		{"missing resolution", map[key]*Mismatch{
			{"account.stale", "a1"}: {Category: "account.stale", Account: "a1", GotFired: 1},
			{"privacy.phone", "a2"}: {Category: "privacy.phone", Account: "a2", GotFired: 1},
		}, 1},
		{"right counts, wrong account", map[key]*Mismatch{
			{"account.stale", "a1"}: {Category: "account.stale", Account: "a1", GotFired: 1, GotResolved: 1},
			{"privacy.phone", "a3"}: {Category: "privacy.phone", Account: "a3", GotFired: 1},
		}, 2},
		{"unscripted alert", map[key]*Mismatch{
			{"account.stale", "a1"}: {Category: "account.stale", Account: "a1", GotFired: 1, GotResolved: 1},
			{"privacy.phone", "a2"}: {Category: "privacy.phone", Account: "a2", GotFired: 1},
			{"opinion.spike", "a9"}: {Category: "opinion.spike", Account: "a9", GotFired: 1},
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, mism := compare(want, tc.got)
			if len(mism) != tc.mismatch {
				t.Errorf("got %d mismatches %+v, want %d", len(mism), mism, tc.mismatch)
			}
		})
	}
}

func TestRecorderDeduplicates(t *testing.T) {
	// The bus's semantics: one firing and one resolution per fingerprint and
	// start; a new episode (a new start) counts again.
	r := newRecorder()
	ctx := context.Background()
	fire := alert("a1", 1, 0)
	for _, tc := range []struct {
		name    string
		fired   int
		resolve int
		dup     bool
		send    func() (bool, error)
	}{
		{"first firing", 1, 0, false, func() (bool, error) { return r.PublishAlert(ctx, fire) }},
		{"repeat", 1, 0, true, func() (bool, error) { return r.PublishAlert(ctx, alert("a1", 1, 0)) }},
		{"resolution", 1, 1, false, func() (bool, error) { return r.PublishAlert(ctx, alert("a1", 1, 2)) }},
		{"next episode", 2, 1, false, func() (bool, error) { return r.PublishAlert(ctx, alert("a1", 3, 0)) }},
	} {
		dup, err := tc.send()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := r.outcome()[key{"account.stale", "a1"}]
		if dup != tc.dup || m.GotFired != tc.fired || m.GotResolved != tc.resolve {
			t.Errorf("%s: got duplicate %v, fired %d, resolved %d; want %v, %d, %d", tc.name, dup, m.GotFired, m.GotResolved, tc.dup, tc.fired, tc.resolve)
		}
	}
}

func alert(account string, start, end int64) *model.Alert {
	a := &model.Alert{Labels: model.LabelSet{model.LabelAlertname: "account.stale", model.LabelAccountID: account},
		StartsAt: Start.Add(time.Duration(start) * time.Hour)}
	if end > 0 {
		a.EndsAt = Start.Add(time.Duration(end) * time.Hour)
	}
	return a
}

// TestOrdinaryTextsAreClean: the everyday texts raise no content finding,
// so every content alert of a replay is a scripted one.
func TestOrdinaryTextsAreClean(t *testing.T) {
	lex, err := textscan.NewLive("", nil, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, group := range [][]string{openings, topics, closings, comments, replies} {
		texts = append(texts, group...)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		texts = append(texts, ordinaryText(r))
	}
	for _, text := range texts {
		if fs := lex.Scan(text); len(fs) > 0 {
			t.Errorf("%q: got findings %+v, want none", text, fs)
		}
	}
}

// TestReplayZombie: a replay longer than 92 days adds an account that never
// posts again after day 0, which must end as a veto and a zombie.
func TestReplayZombie(t *testing.T) {
	sweep, err := config.ParseSchedule("@every 12h")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Accounts: 25, Days: 95, Seed: 3, Sweep: sweep, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Mismatches {
		t.Errorf("%s %s (%s): got fired %d resolved %d, want fired %d resolved %d",
			m.Category, m.Account, m.Incident, m.GotFired, m.GotResolved, m.WantFired, m.WantResolved)
	}
	for _, r := range res.Rows {
		if r.Category == "account.zombie" && r.GotFired != 1 {
			t.Errorf("got %d account.zombie firing, want 1", r.GotFired)
		}
	}
}

// TestReplayInspection checks every replayed account at the end of the
// month against the national indicators: each item failed on an incident
// is one the script's incidents call for (a veto for the gambling link and
// the forced likes, deductions for the leak), and the script's are all
// there.
func TestReplayInspection(t *testing.T) {
	sweep, err := config.ParseSchedule("@every 12h")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Accounts: 100, Days: 30, Seed: 7, Sweep: sweep, Dir: t.TempDir(), Inspect: true})
	if err != nil {
		t.Fatal(err)
	}
	in := res.Inspection
	if in == nil || in.Checked != 100 {
		t.Fatalf("inspection %+v, want 100 accounts checked", in)
	}
	for _, m := range in.Mismatches {
		t.Error(m)
	}
	items := map[string]bool{}
	for _, r := range in.Check.Results {
		for _, f := range r.Findings {
			items[f.Item] = true
		}
	}
	for _, want := range []string{"veto.prohibited", "veto.engagement", "deduct.privacy"} {
		if !items[want] {
			t.Errorf("no account failed %s; items failed: %v", want, items)
		}
	}
	if in.Failed == 0 || !res.OK() {
		t.Errorf("failed %d, ok %v", in.Failed, res.OK())
	}
}

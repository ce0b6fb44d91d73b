package inspect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func accountIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("acct-%04d", i)
	}
	return out
}

func TestSampleIsReproducible(t *testing.T) {
	ids := accountIDs(1000)
	a, err := Sample(ids, 0.12, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 120 {
		t.Fatalf("12%% of 1000: got %d accounts", len(a))
	}
	shuffled := slices.Clone(ids)
	slices.Reverse(shuffled)
	b, _ := Sample(shuffled, 0.12, 2026)
	if !slices.Equal(a, b) {
		t.Error("the same accounts in another order gave another sample")
	}
	c, _ := Sample(ids, 0.12, 2027)
	if slices.Equal(a, c) {
		t.Error("another seed gave the same sample")
	}
	// Pinned: a published spot check must be redrawable years later.
	if got := strings.Join(a[:5], " "); got != pinnedSample {
		t.Errorf("first accounts of the seed-2026 sample: %q, want %q", got, pinnedSample)
	}
	if all, _ := Sample(ids[:7], 1, 1); len(all) != 7 {
		t.Errorf("the 100%% check took %d of 7", len(all))
	}
	if one, _ := Sample(ids[:3], 0.01, 1); len(one) != 1 {
		t.Errorf("a 1%% sample of 3 took %d, want 1", len(one))
	}
	for _, bad := range []float64{0, -0.1, 1.5} {
		if _, err := Sample(ids, bad, 1); err == nil {
			t.Errorf("ratio %v accepted", bad)
		}
	}
}

const pinnedSample = "acct-0006 acct-0010 acct-0019 acct-0026 acct-0039"

func TestRecheckMarksTheUnrectified(t *testing.T) {
	rules := National()
	inQuarter := quarterStart.Add(days(5))
	prevPeriod := Period{From: quarterStart.AddDate(0, -3, 0), At: quarterStart}
	stale := &PostRef{ID: "old", PublishedAt: quarterStart.Add(-days(30))}
	prev := []Result{
		Evaluate(rules, &Facts{Account: Account{ID: "still-stale", Platform: "weibo"}, LastPost: stale}, prevPeriod),
		Evaluate(rules, &Facts{Account: Account{ID: "fixed", Platform: "weibo"}, LastPost: stale}, prevPeriod),
	}
	cur := []Result{
		Evaluate(rules, &Facts{Account: Account{ID: "still-stale", Platform: "weibo"}, LastPost: stale,
			Incidents: []Incident{incident("wording.serious", inQuarter, inQuarter)}}, quarter),
		Evaluate(rules, &Facts{Account: Account{ID: "fixed", Platform: "weibo"}, LastPost: post(days(1))}, quarter),
		Evaluate(rules, &Facts{Account: Account{ID: "new", Platform: "weibo"}, LastPost: stale}, quarter),
	}
	Recheck(prev, cur)
	recurring := func(r Result) (out []string) {
		for _, f := range r.Findings {
			if f.Recurring {
				out = append(out, f.Item)
			}
		}
		return out
	}
	if got := recurring(cur[0]); !slices.Equal(got, []string{"veto.stale", "deduct.update"}) {
		t.Errorf("still stale: recurring %v, want veto.stale and deduct.update (not the new wording finding)", got)
	}
	if got := cur[1].Rectified; !slices.Equal(got, []string{"veto.stale", "deduct.update"}) || !cur[1].Passed {
		t.Errorf("fixed: rectified %v, passed %v", got, cur[1].Passed)
	}
	if len(recurring(cur[2])) != 0 || cur[2].Rectified != nil {
		t.Errorf("an account the previous check did not check: %+v", cur[2])
	}
}

package inspect

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// scripted is a quarter over many accounts with known problems: every 10th
// silent for 20 days, every 25th leaking a secret, every 40th with 3 typos.
type scripted struct{ broken string }

func (s scripted) Facts(_ context.Context, a Account, p Period) (*Facts, error) {
	if a.ID == s.broken {
		return nil, errors.New("connection reset")
	}
	var i int
	fmt.Sscanf(a.ID, "acct-%d", &i)
	f := &Facts{LastPost: &PostRef{ID: a.ID + "-last", PublishedAt: p.At.Add(-days(1))}}
	if i%10 == 0 {
		f.LastPost.PublishedAt = p.At.Add(-days(20))
	}
	if i%25 == 0 {
		f.Incidents = append(f.Incidents, Incident{Fingerprint: a.ID + "-secret", Category: "secret.marking", FiredAt: p.From.Add(days(30))})
	}
	if i%40 == 0 {
		f.Incidents = append(f.Incidents, repeat(Incident{Fingerprint: a.ID + "-typo", Category: "wording.typo", FiredAt: p.From.Add(days(3)), ResolvedAt: p.From.Add(days(4))}, 3)...)
	}
	return f, nil
}

func scriptedAccounts(n int) []Account {
	out := make([]Account, n)
	for i := range out {
		out[i] = Account{ID: fmt.Sprintf("acct-%04d", i), Platform: []string{"weibo", "wechat", "douyin", "app"}[i%4], Unit: "fz-gov"}
	}
	return out
}

func TestQuarterlyCheckFindsExactlyTheScripted(t *testing.T) {
	ctx := context.Background()
	c, err := Run(ctx, National(), scripted{}, Spec{Scope: "350100", Accounts: scriptedAccounts(1000), Period: quarter, Ratio: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Filed != 1000 || len(c.Results) != 1000 || c.RulesVersion != "national-2019" {
		t.Fatalf("filed %d, checked %d, rules %q", c.Filed, len(c.Results), c.RulesVersion)
	}
	for _, r := range c.Results {
		var i int
		fmt.Sscanf(r.Account.ID, "acct-%d", &i)
		var want []string
		if i%10 == 0 {
			want = append(want, "veto.stale")
		}
		if i%25 == 0 {
			want = append(want, "veto.secret")
		}
		if i%10 == 0 {
			want = append(want, "deduct.update")
		}
		if i%40 == 0 {
			want = append(want, "deduct.typo")
		}
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.Item)
		}
		// Veto items first, each group in the rule file's order.
		if strings.Join(got, " ") != strings.Join(sortVetoFirst(want), " ") {
			t.Errorf("%s: failed %v, want %v", r.Account.ID, got, sortVetoFirst(want))
		}
		if wantPassed := i%10 != 0 && i%25 != 0; r.Passed != wantPassed {
			t.Errorf("%s: passed %v, want %v", r.Account.ID, r.Passed, wantPassed)
		}
	}
	s := c.Summarize()
	// Failing: multiples of 10 (100) or of 25 (40), both (20): 120.
	if s.All.Checked != 1000 || s.All.Failed != 120 || s.ByClass["安全保密"] != 40 || s.ByClass["更新不及时"] != 100 || s.ByClass["错别字"] != 25 {
		t.Errorf("summary %+v", s)
	}
	if got := fmt.Sprintf("%.3f", s.All.PassRate()); got != "0.880" {
		t.Errorf("pass rate %s, want 0.880", got)
	}
	if s.ByPlatform["weibo"].Checked != 250 || strings.Join(s.VetoClasses, ",") != "安全保密,更新不及时" {
		t.Errorf("by platform %+v, veto classes %v", s.ByPlatform, s.VetoClasses)
	}
}

// sortVetoFirst orders items as Evaluate does: veto items first, each
// group in the rule file's order.
func sortVetoFirst(items []string) []string {
	order := map[string]int{}
	for i, it := range National().Items {
		order[it.ID] = i
	}
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b string) int {
		va, vb := strings.HasPrefix(a, "veto."), strings.HasPrefix(b, "veto.")
		if va != vb {
			if va {
				return -1
			}
			return 1
		}
		return order[a] - order[b]
	})
	return out
}

func TestSpotCheckIsReproducible(t *testing.T) {
	ctx := context.Background()
	spec := Spec{Scope: "35", Accounts: scriptedAccounts(1000), Period: quarter, Ratio: 0.12, Seed: 42, Workers: 8}
	a, err := Run(ctx, National(), scripted{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Workers = 1
	b, err := Run(ctx, National(), scripted{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Results) != 120 || !reflect.DeepEqual(a, b) {
		t.Errorf("two spot checks with seed 42: %d and %d results, equal %v", len(a.Results), len(b.Results), reflect.DeepEqual(a, b))
	}
}

func TestCheckStopsOnAFactsError(t *testing.T) {
	_, err := Run(context.Background(), National(), scripted{broken: "acct-0500"}, Spec{Accounts: scriptedAccounts(1000), Period: quarter, Ratio: 1})
	if err == nil || !strings.Contains(err.Error(), "facts of account acct-0500: connection reset") {
		t.Errorf("got %v, want the account and the cause", err)
	}
}

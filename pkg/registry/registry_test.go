package registry

import (
	"strings"
	"testing"
)

func TestNewChecksTheWhole(t *testing.T) {
	units := []Unit{
		{ID: "fj", Name: "福建省"},
		{ID: "fz", Name: "福州市", Parent: "fj"},
	}
	acct := func(id, unit, platform, status string) Account {
		return Account{ID: id, Name: id, Unit: unit, Platform: platform, Status: status}
	}
	for _, tc := range []struct {
		name     string
		units    []Unit
		accounts []Account
		want     []string // substrings of the problems, in order
	}{
		{name: "good", units: units, accounts: []Account{acct("a", "fz", "weibo", "")}},
		{name: "duplicate unit", units: append(units, Unit{ID: "fz", Name: "again"}), want: []string{`units[2].id: duplicate unit id "fz"`}},
		{name: "unsafe unit id", units: []Unit{{ID: "Fu Zhou", Name: "x"}}, want: []string{`units[0].id: id "Fu Zhou" must match`}},
		{name: "missing ids", units: []Unit{{Name: "x"}}, accounts: []Account{acct("", "fz", "weibo", "")}, want: []string{`units[0].id: missing id`, `accounts[0].id: missing id`}},
		{name: "unknown parent", units: []Unit{{ID: "x", Name: "x", Parent: "nowhere"}}, want: []string{`units[0].parent: unknown parent unit "nowhere"`}},
		{name: "self parent", units: []Unit{{ID: "x", Name: "x", Parent: "x"}}, want: []string{"parent cycle: [x x]"}},
		{name: "three-cycle reported once", units: []Unit{{ID: "a", Name: "a", Parent: "b"}, {ID: "b", Name: "b", Parent: "c"}, {ID: "c", Name: "c", Parent: "a"}}, want: []string{"parent cycle"}},
		{name: "account problems", units: units, accounts: []Account{
			acct("a", "fz", "weibo", ""),
			acct("a", "fz", "weibo", ""),
			acct("b", "gone", "weibo", ""),
			acct("c", "fz", "myspace", ""),
			acct("d", "fz", "weibo", "dormant"),
			acct("e.f", "fz", "weibo", ""),
			acct("g", "", "weibo", ""),
		}, want: []string{
			`accounts[1].id: duplicate account id "a" (first at accounts[0])`,
			`accounts[2].unit: unknown unit "gone"`,
			`accounts[3].platform: unknown platform "myspace"`,
			`accounts[4].status: unknown status "dormant"`,
			`accounts[5].id: id "e.f" must match`,
			`accounts[6].unit: account "g" has no unit`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, probs := New(tc.units, tc.accounts)
			if len(probs) != len(tc.want) {
				t.Fatalf("got %d problems %v, want %d", len(probs), probs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(probs[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, probs[i].Error(), w)
				}
			}
			if len(tc.want) == 0 && r == nil {
				t.Fatal("no registry for a good input")
			}
		})
	}
}

func TestAccountsAndChain(t *testing.T) {
	r, probs := New(
		[]Unit{{ID: "fj", Name: "省"}, {ID: "fz", Name: "市", Parent: "fj"}, {ID: "gl", Name: "区", Parent: "fz"}},
		[]Account{{ID: "x", Name: "X", Unit: "gl", Platform: "wechat"}, {ID: "y", Name: "Y", Unit: "fz", Platform: "weibo", Status: StatusClosed}},
	)
	if probs != nil {
		t.Fatal(probs)
	}
	x, ok := r.Account("x")
	if !ok || !x.Active() || x.Status != StatusActive {
		t.Errorf("account x = %+v, %v; want active by default", x, ok)
	}
	if y, _ := r.Account("y"); y.Active() {
		t.Error("closed account y reports active")
	}
	var chain []string
	for _, u := range r.Chain("gl") {
		chain = append(chain, u.ID)
	}
	if got, want := strings.Join(chain, ">"), "gl>fz>fj"; got != want {
		t.Errorf("Chain(gl) = %s, want %s", got, want)
	}
	if got := r.Chain("nowhere"); len(got) != 0 {
		t.Errorf("Chain(nowhere) = %v, want empty", got)
	}
	if got := len(r.Accounts()); got != 2 || r.Accounts()[0].ID != "x" {
		t.Errorf("Accounts() = %d starting %s, want 2 in input order", got, r.Accounts()[0].ID)
	}
}

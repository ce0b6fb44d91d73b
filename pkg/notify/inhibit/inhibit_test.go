package inhibit

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

func TestInhibitor(t *testing.T) {
	ms := func(ss ...string) match.Matchers {
		m, err := match.ParseAll(ss)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	rules := []Rule{
		{Source: ms(`alertname="account.stale"`), Target: ms(`alertname="account.stale_warning"`), Equal: []string{"account_id"}},
		{Source: ms(`alertname="system.source_down"`), Target: ms(`alertname="account.stale"`), Equal: []string{"account_id"}},
		{Source: ms(`severity="critical"`), Target: ms(`alertname="privacy.phone"`), Equal: []string{"account_id", "post_id"}},
	}
	lbl := func(name, account string) model.LabelSet {
		return model.LabelSet{"alertname": name, "account_id": account}
	}
	act := func(ls ...model.LabelSet) []Active {
		var out []Active
		for _, l := range ls {
			out = append(out, Active{Fingerprint: l.Fingerprint(), Labels: l})
		}
		return out
	}
	stale := lbl("account.stale", "fz-wechat")
	phone := func(severity, account, post string) model.LabelSet {
		return model.LabelSet{"alertname": "privacy.phone", "severity": severity, "account_id": account, "post_id": post}
	}
	critical := phone("critical", "fz-wechat", "p1")
	other := func(account, post string) model.LabelSet {
		return model.LabelSet{"alertname": "system.x", "severity": "critical", "account_id": account, "post_id": post}
	}
	noPost := model.LabelSet{"alertname": "system.x", "severity": "critical", "account_id": "fz-wechat"}
	tests := []struct {
		name   string
		target model.LabelSet
		active []Active
		want   string // inhibiting fingerprint, "" for none
	}{
		{"stale inhibits its warning", lbl("account.stale_warning", "fz-wechat"), act(stale), stale.Fingerprint()},
		{"not another account's warning", lbl("account.stale_warning", "xm-douyin"), act(stale), ""},
		{"source down inhibits stale", stale, act(lbl("system.source_down", "fz-wechat")), lbl("system.source_down", "fz-wechat").Fingerprint()},
		{"no source firing", stale, act(lbl("privacy.phone", "fz-wechat")), ""},
		{"the warning does not inhibit stale", stale, act(lbl("account.stale_warning", "fz-wechat")), ""},
		{"no self-inhibition", stale, act(stale), ""},
		{"another source, not itself", critical, act(critical, other("fz-wechat", "p1")), other("fz-wechat", "p1").Fingerprint()},
		{"every equal label must agree", critical, act(other("fz-wechat", "p2")), ""},
		{"equal values are not run together", critical, act(other("fz-", "wechatp1")), ""},
		{"a missing equal label is an empty one", phone("critical", "fz-wechat", ""), act(noPost), noPost.Fingerprint()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NewIndex(rules, tc.active).Inhibitor(tc.target.Fingerprint(), tc.target)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Inhibitor: got %q %v, want %q", got, ok, tc.want)
			}
		})
	}
}

func TestTargeted(t *testing.T) {
	tgt, err := match.ParseAll([]string{`alertname="account.stale"`})
	if err != nil {
		t.Fatal(err)
	}
	rules := []Rule{{Target: tgt}}
	tests := []struct {
		name  string
		rules []Rule
		ls    model.LabelSet
		want  bool
	}{
		{"a rule's target", rules, model.LabelSet{"alertname": "account.stale"}, true},
		{"no rule's target", rules, model.LabelSet{"alertname": "privacy.phone"}, false},
		{"no rules", nil, model.LabelSet{"alertname": "account.stale"}, false},
	}
	for _, tc := range tests {
		if got := Targeted(tc.rules, tc.ls); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

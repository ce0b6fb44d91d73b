package inspect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	quarterStart = time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC)   // 2026-10-01 00:00 CST
	timePoint    = time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC) // 2026-12-31 23:59 CST
	quarter      = Period{From: quarterStart, At: timePoint}
)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func post(before time.Duration) *PostRef {
	at := timePoint.Add(-before)
	return &PostRef{ID: "p-" + at.Format("0102"), URL: "https://weibo.example/" + at.Format("0102"), PublishedAt: at}
}

func incident(cat string, fired, resolved time.Time) Incident {
	return Incident{Fingerprint: "fp-" + cat, Incident: 1, Category: cat, FiredAt: fired, ResolvedAt: resolved,
		Summary: cat + " 的告警", PostURL: "https://weibo.example/x"}
}

// TestEvaluateNationalItems scripts one account per situation and checks
// the outcome, the items failed and their evidence.
func TestEvaluateNationalItems(t *testing.T) {
	inQuarter := quarterStart.Add(days(20))
	tests := []struct {
		name       string
		platform   string
		last       *PostRef
		incidents  []Incident
		wantPassed bool
		wantScore  float64
		wantItems  string // failed items, in order
		wantText   string // in the first finding's evidence
	}{
		{"updated yesterday, nothing found", "weibo", post(days(1)), nil, true, 100, "", ""},
		{"last post 15 days before the time point", "weibo", post(days(15)), nil, false, 95, "veto.stale deduct.update", "至检查时点已 15 天未更新（要求 14 天内）"},
		{"last post 8 days before: a deduction only", "weibo", post(days(8)), nil, true, 95, "deduct.update", "已 8 天未更新（要求 7 天内）"},
		{"no post at all", "wechat", nil, nil, false, 95, "veto.stale deduct.update", "历史记录中无任何发布"},
		{"a leaked secret in the quarter", "weibo", post(days(1)), []Incident{incident("secret.marking", inQuarter, inQuarter.Add(time.Hour))}, false, 100, "veto.secret", "secret.marking 的告警"},
		{"gambling spam link", "toutiao", post(days(1)), []Incident{incident("content.illegal_link", inQuarter, time.Time{})}, false, 100, "veto.prohibited", ""},
		{"ended before the quarter: not this check's", "weibo", post(days(1)), []Incident{incident("wording.serious", quarterStart.Add(-days(10)), quarterStart.Add(-days(9)))}, true, 100, "", ""},
		{"fired after the time point: not this check's", "weibo", post(days(1)), []Incident{incident("wording.serious", timePoint.Add(time.Hour), time.Time{})}, true, 100, "", ""},
		{"a finding marked no problem", "weibo", post(days(1)), []Incident{{Category: "wording.serious", FiredAt: inQuarter, Dismissed: true}}, true, 100, "", ""},
		{"typos deduct up to their cap", "weibo", post(days(1)), repeat(incident("wording.typo", inQuarter, inQuarter.Add(time.Hour)), 12), true, 90, "deduct.typo", ""},
		{"privacy leaks deduct 5 each", "weibo", post(days(1)), repeat(incident("privacy.phone", inQuarter, inQuarter.Add(time.Hour)), 3), true, 85, "deduct.privacy", ""},
		{"deductions below the pass score fail", "weibo", post(days(8)), slices.Concat(repeat(incident("privacy.phone", inQuarter, inQuarter), 4), repeat(incident("wording.typo", inQuarter, inQuarter), 10),
			repeat(incident("content.dead_link", inQuarter, inQuarter), 5), repeat(incident("account.unavailable", inQuarter, inQuarter), 2)), false, 50, "deduct.update deduct.typo deduct.privacy deduct.dead_link deduct.unavailable", ""},
		{"an app down at the time point: veto", "app", post(days(1)), []Incident{incident("account.unavailable", timePoint.Add(-time.Hour), time.Time{})}, false, 100, "veto.app", ""},
		{"an app down once in the quarter: no veto", "app", post(days(1)), []Incident{incident("account.unavailable", inQuarter, inQuarter.Add(time.Hour))}, true, 100, "", ""},
		{"a Weibo account unreachable: a deduction", "weibo", post(days(1)), []Incident{incident("account.unavailable", inQuarter, inQuarter.Add(time.Hour))}, true, 95, "deduct.unavailable", ""},
		{"veto items come first", "weibo", post(days(1)), []Incident{incident("wording.typo", inQuarter, inQuarter), incident("interaction.unanswered", inQuarter, time.Time{})}, false, 99, "veto.interaction deduct.typo", ""},
	}
	rules := National()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Evaluate(rules, &Facts{Account: Account{ID: "a", Platform: tc.platform, Unit: "fz-gov"}, LastPost: tc.last, Incidents: tc.incidents}, quarter)
			var items []string
			for _, f := range res.Findings {
				items = append(items, f.Item)
				if len(f.Evidence) == 0 {
					t.Errorf("finding %s has no evidence", f.Item)
				}
			}
			if got := strings.Join(items, " "); got != tc.wantItems {
				t.Errorf("items failed %q, want %q", got, tc.wantItems)
			}
			if res.Passed != tc.wantPassed || res.Score != tc.wantScore {
				t.Errorf("passed %v score %v, want %v %v", res.Passed, res.Score, tc.wantPassed, tc.wantScore)
			}
			if tc.wantText != "" && (len(res.Findings) == 0 || !strings.Contains(res.Findings[0].Evidence[0].Text, tc.wantText)) {
				t.Errorf("evidence %+v, want it to say %q", res.Findings, tc.wantText)
			}
		})
	}
}

func repeat(inc Incident, n int) []Incident {
	out := make([]Incident, n)
	for i := range out {
		out[i] = inc
		out[i].Fingerprint = fmt.Sprintf("%s-%d", inc.Fingerprint, i)
	}
	return out
}

// TestEvaluateRegionRules: Fuzhou's 10-day rule and its Weibo-only reply
// deduction.
func TestEvaluateRegionRules(t *testing.T) {
	rules, err := Load("testdata/fuzhou.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inQuarter := quarterStart.Add(days(3))
	weibo := Evaluate(rules, &Facts{Account: Account{ID: "w", Platform: "weibo"}, LastPost: post(days(11)),
		Incidents: []Incident{incident("interaction.unanswered", inQuarter, inQuarter.Add(time.Hour)), incident("wording.outdated", inQuarter, inQuarter)}}, quarter)
	if got := fmt.Sprint(weibo.Passed, weibo.Score, len(weibo.Findings)); got != "false 87 3" {
		t.Errorf("weibo: passed, score, findings = %s, want false 87 3 (veto.interaction, 10 for 11 days, 3 for the late reply; no outdated-wording deduction)", got)
	}
	wechat := Evaluate(rules, &Facts{Account: Account{ID: "c", Platform: "wechat"}, LastPost: post(days(9))}, quarter)
	if !wechat.Passed || wechat.Score != 100 {
		t.Errorf("wechat 9 days after its last post: %+v, want a pass at 100", wechat)
	}
}

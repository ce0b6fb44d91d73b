package cli

import (
	"slices"
	"strings"
	"testing"
)

// TestCheckAllowFile: --allow reads the list endpoint's answer and drops
// the findings its entries with scope everywhere match; entries of a post,
// an account or a unit do not apply to a draft.
func TestCheckAllowFile(t *testing.T) {
	dir := t.TempDir()
	const draft = "希望大家再接再励，咨询电话13912345678。"
	// As GET /api/v1/findings/allow answers.
	list := writeFile(t, dir, "allow.json", `{"status": "success", "data": [
  {"id": "a1", "scope": "everywhere", "category": "wording.typo", "rule": "再接再励", "reason": "引用原文", "by": "管理员", "unit": "fz-edu", "created_at": "2026-11-26T02:00:00Z"},
  {"id": "a2", "scope": "account", "target": "fz-edu-weibo", "category": "privacy.phone", "match": "13912345678", "reason": "公开电话", "by": "教育值班", "unit": "fz-edu", "created_at": "2026-11-26T02:01:00Z"}
]}`)
	categories := func(args ...string) []string {
		t.Helper()
		var out []string
		for _, f := range checkJSON(t, draft, args...).Findings {
			out = append(out, f.Category)
		}
		return out
	}
	if got := categories(); !slices.Equal(got, []string{"wording.typo", "privacy.phone"}) {
		t.Fatalf("without --allow: %v", got)
	}
	if got := categories("--allow", list); !slices.Equal(got, []string{"privacy.phone"}) {
		t.Errorf("with --allow: %v, want the phone number only (its entry is the account's)", got)
	}

	everything := writeFile(t, dir, "all.json", `[{"id": "a3", "scope": "everywhere", "category": "wording.typo", "rule": "再接再励", "reason": "r", "by": "b"},
 {"id": "a4", "scope": "everywhere", "category": "privacy.phone", "match": "１３９１２３４５６７８", "reason": "r", "by": "b"}]`)
	code, out, errs := runCheck(t, draft, "--json", "--allow", everything)
	if code != 0 || !strings.Contains(out, `"findings":[]`) {
		t.Errorf("all allowed: exit %d, %s %s; want 0 and no findings", code, out, errs)
	}

	for _, tc := range []struct{ name, text, want string }{
		{"broad.json", `[{"id": "b", "scope": "everywhere", "category": "wording.typo", "reason": "r"}]`, `broad.json: entry 1 (id "b")`},
		{"notjson.json", `{"alerts": []}`, "notjson.json: want a JSON array"},
	} {
		code, _, errs := runCheck(t, draft, "--allow", writeFile(t, dir, tc.name, tc.text))
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("--allow %s: exit %d, stderr %q; want %d naming %q", tc.name, code, errs, ExitUsage, tc.want)
		}
	}
	if code, _, errs := runCheck(t, draft, "--allow", dir+"/missing.json"); code != ExitUsage || !strings.Contains(errs, "missing.json") {
		t.Errorf("--allow of a missing file: exit %d, stderr %q", code, errs)
	}
}

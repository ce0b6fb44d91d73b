package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNationalRules(t *testing.T) {
	r := National()
	if r.Version != "national-2019" || r.PassScore != 60 {
		t.Fatalf("national rules: version %q, pass score %v", r.Version, r.PassScore)
	}
	var vetoes []string
	for _, it := range r.Items {
		if it.Veto {
			vetoes = append(vetoes, it.ID)
		}
	}
	// The checklist's eight single-veto items for new media.
	want := "veto.wording veto.secret veto.prohibited veto.opinion veto.stale veto.interaction veto.engagement veto.app"
	if got := strings.Join(vetoes, " "); got != want {
		t.Errorf("veto items %q, want %q", got, want)
	}
}

func TestRegionOverridesNational(t *testing.T) {
	r, err := Load("testdata/fuzhou.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "fuzhou-2026" || r.PassScore != 60 {
		t.Errorf("version %q, pass score %v: want the region's version and the national pass score", r.Version, r.PassScore)
	}
	byID := map[string]Item{}
	var order []string
	for _, it := range r.Items {
		byID[it.ID] = it
		order = append(order, it.ID)
	}
	if it := byID["deduct.update"]; it.StaleDays != 10 || it.Points != 10 {
		t.Errorf("deduct.update %+v, want Fuzhou's 10 days for 10 points", it)
	}
	if _, ok := byID["deduct.outdated"]; ok {
		t.Error("deduct.outdated is disabled by the region, still there")
	}
	if order[len(order)-1] != "deduct.reply" || byID["veto.stale"].StaleDays != 14 {
		t.Errorf("items %v: want the national ones kept in order and the region's new one last", order)
	}
}

func TestRuleProblemsNameTheLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte(`name: 坏规则
items:
  - id: veto.x
    name: 某项
    class: 违规内容
    veto: true
    points: 5
    categories: [prohibited.nonsense]
  - id: deduct.y
    name: 某扣分项
    class: 错别字
    categories: [wording.typo]
  - id: deduct.y
    name: 重复
    class: 错别字
    points: 1
  - {id: z, name: 无依据, class: 其他, points: 1, stale_days: -3}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil {
		t.Fatal("a bad rule file loaded")
	}
	for _, want := range []string{
		"bad.yaml: version: a rule set needs a version",
		"bad.yaml:7: items[0].points: a veto item fails the account; it deducts no points",
		`bad.yaml:8: items[0].categories[0]: unknown alert category "prohibited.nonsense"`,
		"bad.yaml:9: items[1].points: a deduction item needs points above 0, not 0",
		`bad.yaml:13: items[2].id: duplicate item "deduct.y"`,
		`items[2]: item "deduct.y" decides nothing: give categories or stale_days`,
		"items[3].stale_days: must not be negative, not -3",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems do not say %q:\n%v", want, err)
		}
	}
}

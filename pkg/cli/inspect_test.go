package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/govwatch/govwatch/pkg/inspect"
	"github.com/govwatch/govwatch/pkg/report"
)

func TestInspectRules(t *testing.T) {
	code, out, _ := run("inspect", "rules")
	if code != ExitOK || !strings.Contains(out, "national-2019") || strings.Count(out, "单项否决") != 8 || !strings.Contains(out, "veto.stale") || !strings.Contains(out, "14 天未更新") {
		t.Fatalf("inspect rules: %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "region.yaml")
	if err := os.WriteFile(bad, []byte("version: x\nitems:\n  - {id: deduct.update, name: 更新, class: 更新不及时, points: 0, stale_days: 10}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run("inspect", "rules", "-rules", bad)
	if code != ExitProblem || !strings.Contains(errOut, "region.yaml:3: items[0].points: a deduction item needs points above 0") {
		t.Errorf("a bad region file: %d %s", code, errOut)
	}
}

// staleFacts: every third account silent for 20 days.
type staleFacts struct{}

func (staleFacts) Facts(_ context.Context, a inspect.Account, p inspect.Period) (*inspect.Facts, error) {
	last := p.At.Add(-24 * time.Hour)
	if strings.HasSuffix(a.ID, "0") || strings.HasSuffix(a.ID, "3") || strings.HasSuffix(a.ID, "6") {
		last = p.At.Add(-20 * 24 * time.Hour)
	}
	return &inspect.Facts{LastPost: &inspect.PostRef{ID: a.ID + "-p", PublishedAt: last}}, nil
}

func TestInspectReport(t *testing.T) {
	at := time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC)
	accts := []inspect.Account{
		{ID: "fz-gov-weibo", Platform: "weibo", Unit: "fz-gov"}, {ID: "fz-gov-wechat", Platform: "wechat", Unit: "fz-gov"},
		{ID: "fz-edu-weibo", Platform: "weibo", Unit: "fz-edu"}, {ID: "acct-0", Platform: "douyin", Unit: "fz-gov"},
	}
	c, err := inspect.Run(context.Background(), inspect.National(), staleFacts{}, inspect.Spec{Scope: "350100", Accounts: accts, Period: inspect.Period{From: at.AddDate(0, -3, 0), At: at}, Ratio: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	checkPath := filepath.Join(dir, "check.json")
	b, _ := json.Marshal(c)
	if err := os.WriteFile(checkPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "notice.html")
	code, out, errOut := run("inspect", "report", "-check", checkPath, "-format", "html", "-o", html, "-config", "../../configs/govwatch.yaml",
		"-issuer", "福州市人民政府办公厅", "-scope-name", "福州市", "-issued", "2027-01-08", "-holidays", "../../configs/holidays")
	if code != ExitOK || !strings.Contains(out, "4 accounts checked, 1 failed") {
		t.Fatalf("inspect report html: %d %s %s", code, out, errOut)
	}
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), "福州市人民政府办公厅") || !strings.Contains(string(page), "2027年1月22日前") {
		t.Errorf("the 通报 lacks the issuer or the deadline 10 working days after 2027-01-08:\n%.2000s", page)
	}
	xlsx := filepath.Join(dir, "notice.xlsx")
	if code, _, errOut := run("inspect", "report", "-check", checkPath, "-format", "xlsx", "-o", xlsx); code != ExitOK {
		t.Fatalf("inspect report xlsx: %d %s", code, errOut)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, _ := f.GetRows(report.SheetAnnex); len(rows) != 2 || rows[1][2] != "acct-0" {
		t.Errorf("附件: %v, want the one silent account", rows)
	}
	if code, _, _ := run("inspect", "report", "-check", checkPath, "-format", "doc", "-o", xlsx); code != ExitUsage {
		t.Errorf("an unknown format: exit %d, want %d", code, ExitUsage)
	}
	if err := os.WriteFile(checkPath, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run("inspect", "report", "-check", checkPath, "-o", html); code != ExitProblem || !strings.Contains(errOut, "not a check's results") {
		t.Errorf("a broken check file: %d %s", code, errOut)
	}
}

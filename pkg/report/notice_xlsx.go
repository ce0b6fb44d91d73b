package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the 通报's workbook.
const (
	SheetSummary  = "总体情况"
	SheetProblems = "存在问题"
	SheetAnnex    = "附件"
)

// AnnexHeader is the 附件's header row, as provinces publish it.
var AnnexHeader = []string{"序号", "新媒体类型", "账号名称", "责任单位", "问题类别", "问题描述", "检查时最近更新日期"}

// WriteXLSX writes n as a workbook: the overview with its table by
// platform, the problems by class, and the 附件.
func WriteXLSX(w io.Writer, n *Notice) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	for _, s := range []string{SheetProblems, SheetAnnex} {
		if _, err := f.NewSheet(s); err != nil {
			return err
		}
	}
	sum := [][]any{
		{n.Title},
		{"检查时点", cnDate(n.At)},
		{"规则版本", n.RulesVersion},
		{"备案数", n.Filed},
		{"检查数", n.Checked},
		{"合格数", n.Passed},
		{"不合格数", n.Failed},
		{"合格率", n.PassRate},
		{},
		{"平台", "检查数", "合格数", "不合格数", "合格率"},
	}
	for _, p := range n.ByPlatform {
		sum = append(sum, []any{p.Platform, p.Checked, p.Passed, p.Failed, p.PassRate})
	}
	problems := [][]any{{"问题类别", "单项否决", "账号名称", "新媒体类型", "责任单位", "问题描述", "整改不到位"}}
	for _, g := range n.Problems {
		for _, a := range g.Accounts {
			problems = append(problems, []any{g.Class, yesNo(g.Veto), a.Account, a.Platform, a.Unit, strings.Join(a.Evidence, "；"), yesNo(a.Recurring)})
		}
	}
	annex := [][]any{toAny(AnnexHeader)}
	for i, r := range n.Annex {
		annex = append(annex, []any{i + 1, r.Platform, r.Account, r.Unit, r.Class, r.Description, r.LastUpdate})
	}
	for _, s := range []struct {
		name string
		rows [][]any
	}{{SheetSummary, sum}, {SheetProblems, problems}, {SheetAnnex, annex}} {
		for i, row := range s.rows {
			cell, err := excelize.CoordinatesToCellName(1, i+1)
			if err != nil {
				return err
			}
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				return fmt.Errorf("sheet %s row %d: %w", s.name, i+1, err)
			}
		}
	}
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(SheetSummary, "B8", "B8", pct); err != nil {
		return err
	}
	if len(n.ByPlatform) > 0 {
		if err := f.SetCellStyle(SheetSummary, "E11", fmt.Sprintf("E%d", 10+len(n.ByPlatform)), pct); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		name  string
		width map[string]float64
	}{{SheetAnnex, map[string]float64{"A": 6, "B": 10, "C": 24, "D": 28, "E": 14, "F": 60, "G": 18}},
		{SheetProblems, map[string]float64{"A": 14, "B": 8, "C": 24, "D": 10, "E": 28, "F": 60, "G": 10}}} {
		for col, wd := range s.width {
			if err := f.SetColWidth(s.name, col, col, wd); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

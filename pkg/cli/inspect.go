package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/inspect"
	"github.com/govwatch/govwatch/pkg/report"
)

const inspectUsage = `usage:
  govwatch inspect rules [-rules FILE]
                                 the items a check judges by: the national list, with a
                                 region's file laid over it (problems with file:line, exit 1)
  govwatch inspect report -check CHECK.json -format html|xlsx|pdf -o FILE [-config FILE]
                         [-title T] [-issuer I] [-scope-name N] [-issued DATE] [-fix-within DAYS]
                         [-holidays DIR]
                                 a check's 通报; names of accounts and units from the config's
                                 registry, the deadline in working days of the holiday calendar
`

// inspectCmd is `govwatch inspect`.
func inspectCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		fmt.Fprint(io.Stderr, inspectUsage)
		return ExitUsage
	}
	switch args[0] {
	case "rules":
		return inspectRules(args[1:], io)
	case "report":
		return inspectReport(ctx, args[1:], io)
	}
	fmt.Fprintf(io.Stderr, "govwatch inspect: unknown command %q\n\n%s", args[0], inspectUsage)
	return ExitUsage
}

func inspectRules(args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch inspect rules", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	path := fs.String("rules", "", "a region's rule file over the national list (default: the national list alone)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	rules := inspect.National()
	if *path != "" {
		var err error
		if rules, err = inspect.Load(*path); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
	}
	fmt.Fprintf(io.Stdout, "%s（%s），合格分 %v\n", rules.Name, rules.Version, rules.PassScore)
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\t类型\t扣分\t检查项\t问题类别\t依据")
	for _, it := range rules.Items {
		kind, points := "扣分", fmt.Sprintf("%v", it.Points)
		if it.Veto {
			kind, points = "单项否决", "-"
		} else if it.MaxPoints > 0 {
			points += fmt.Sprintf("（至多 %v）", it.MaxPoints)
		}
		var by []string
		if it.StaleDays > 0 {
			by = append(by, fmt.Sprintf("%d 天未更新", it.StaleDays))
		}
		if len(it.Categories) > 0 {
			cats := strings.Join(it.Categories, ",")
			if it.FiringAtPoint {
				cats += "（检查时仍在告警）"
			}
			by = append(by, cats)
		}
		if len(it.Platforms) > 0 {
			by = append(by, "仅 "+strings.Join(it.Platforms, ","))
		}
		if len(it.ExceptPlatforms) > 0 {
			by = append(by, "不含 "+strings.Join(it.ExceptPlatforms, ","))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, kind, points, it.Name, it.Class, strings.Join(by, "；"))
	}
	if err := tw.Flush(); err != nil {
		return ExitProblem
	}
	return ExitOK
}

func inspectReport(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch inspect report", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	checkPath := fs.String("check", "", "a check's results, as JSON")
	format := fs.String("format", "html", "html, xlsx or pdf")
	out := fs.String("o", "", "file to write")
	cfgPath := fs.String("config", "", "config whose registry names the accounts and units")
	title := fs.String("title", "政务新媒体检查情况通报", "the 通报's title")
	issuer := fs.String("issuer", "", "who publishes it")
	scopeName := fs.String("scope-name", "", "what was checked, e.g. 福州市 (default: the check's scope)")
	issued := fs.String("issued", "", "date of issue, 2006-01-02 (default today)")
	fixWithin := fs.Int("fix-within", 10, "working days to rectify")
	holidays := fs.String("holidays", "", "holiday calendar folder (configs/holidays); default weekdays only")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *checkPath == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprint(io.Stderr, "govwatch inspect report: -check and -o are required\n"+inspectUsage)
		return ExitUsage
	}
	if *format != "html" && *format != "xlsx" && *format != "pdf" {
		fmt.Fprintf(io.Stderr, "govwatch inspect report: unknown format %q (html, xlsx or pdf)\n", *format)
		return ExitUsage
	}
	data, err := os.ReadFile(*checkPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	var c inspect.Check
	if err := json.Unmarshal(data, &c); err != nil {
		fmt.Fprintf(io.Stderr, "%s: not a check's results: %v\n", *checkPath, err)
		return ExitProblem
	}
	o := report.NoticeOptions{Title: *title, Issuer: *issuer, ScopeName: *scopeName, FixWithin: *fixWithin, Issued: time.Now()}
	if o.ScopeName == "" {
		o.ScopeName = c.Scope
	}
	if *issued != "" {
		d, err := calendar.ParseDate(*issued)
		if err != nil {
			fmt.Fprintf(io.Stderr, "-issued %q: %v\n", *issued, err)
			return ExitUsage
		}
		o.Issued = d.Start()
	}
	if *holidays != "" {
		if o.Calendar, err = calendar.LoadDir(*holidays); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
	}
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		o.AccountName = func(id string) string {
			if a, ok := cfg.Registry.Account(id); ok {
				return a.Name
			}
			return ""
		}
		o.UnitName = func(id string) string {
			if u, ok := cfg.Registry.Unit(id); ok {
				return u.Name
			}
			return ""
		}
	}
	n := report.NewNotice(&c, o)
	var buf bytes.Buffer
	switch *format {
	case "xlsx":
		err = report.WriteXLSX(&buf, n)
	default:
		var h *report.NoticeHTML
		if h, err = report.NewNoticeHTML(""); err == nil {
			err = h.Render(&buf, n)
		}
		if err == nil && *format == "pdf" {
			var browser string
			if browser, err = report.Chromium(); err == nil {
				var pdf []byte
				pdf, err = report.PDF(ctx, browser, buf.Bytes())
				buf.Reset()
				buf.Write(pdf)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch inspect report: %v\n", err)
		return ExitProblem
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	fmt.Fprintf(io.Stdout, "%s: %d accounts checked, %d failed, %d annex rows\n", *out, n.Checked, n.Failed, len(n.Annex))
	return ExitOK
}

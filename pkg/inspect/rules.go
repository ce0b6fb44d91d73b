// Package inspect evaluates accounts against the indicators of the national
// checklist for government new media (and a region's additions) at a check's
// time point, and selects the accounts of a quarterly 100% check or a
// reproducible spot check. The items and their thresholds are data, a YAML
// rule file (rules/national-2019.yaml, overridable per region); the facts an
// evaluation reads — an account's last post, its alert incidents, its probe
// days — come from the history database.
package inspect

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"slices"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
)

//go:embed rules/national-2019.yaml
var nationalRules []byte

// Rules are the items a check evaluates, under a version the check's results
// record.
type Rules struct {
	Version string `yaml:"version" doc:"Names the rule set in every check's results, so a result says what it was judged by."`
	Name    string `yaml:"name" doc:"The rule set's title, in the 通报."`
	// PassScore is the least score an account without a veto finding
	// passes with; the score is 100 less its deductions.
	PassScore float64 `yaml:"pass_score" doc:"The least score (100 less the deductions) an account passes with."`
	Items     []Item  `yaml:"items" doc:"The items, single-veto and deduction."`
}

// Item is one indicator. What decides it is alert incidents of Categories
// in the period (each one a finding), or the time since the last post at the
// time point (StaleDays), or both.
type Item struct {
	ID   string `yaml:"id" doc:"Stable id, e.g. veto.stale; a region's file replaces the item of the same id."`
	Name string `yaml:"name" doc:"What the item checks, in Chinese, as the 通报 names it."`
	// Class is the 问题类别 the 通报 groups findings under.
	Class string `yaml:"class" doc:"The 问题类别 the 通报 groups findings under."`
	Veto  bool   `yaml:"veto" doc:"A single-veto item: one finding fails the account."`
	// Points are deducted per finding, up to MaxPoints (0: no cap).
	Points    float64 `yaml:"points" doc:"Points deducted per finding (deduction items)."`
	MaxPoints float64 `yaml:"max_points" doc:"Most points the item deducts; 0: no cap."`

	Categories []string `yaml:"categories" doc:"Alert categories whose incidents in the period are findings."`
	// FiringAtPoint counts only the incidents still firing at the time
	// point: an app down once during the quarter is not an app that cannot
	// be used.
	FiringAtPoint bool `yaml:"firing_at_point" doc:"Counts only incidents still firing at the time point."`
	StaleDays     int  `yaml:"stale_days" doc:"A finding when the account's last post is older than this many days at the time point (or there is none)."`

	Platforms       []string `yaml:"platforms" doc:"Platforms the item applies to; empty: all."`
	ExceptPlatforms []string `yaml:"except_platforms" doc:"Platforms the item does not apply to."`
	Disabled        bool     `yaml:"disabled" doc:"Leaves the item out (a region's file disabling a national deduction)."`
}

// AppliesTo reports whether the item judges accounts of platform.
func (it *Item) AppliesTo(platform string) bool {
	if it.Disabled || slices.Contains(it.ExceptPlatforms, platform) {
		return false
	}
	return len(it.Platforms) == 0 || slices.Contains(it.Platforms, platform)
}

// National returns the national rule set shipped with govwatch.
func National() *Rules {
	r, err := parse("national-2019.yaml", nationalRules, nil)
	if err != nil {
		panic(fmt.Sprintf("inspect: the shipped national rules do not load: %v", err))
	}
	return r
}

// Load reads a region's rule file over the national set: an item with the
// id of a national one replaces it, a new id adds an item, `disabled: true`
// drops one. The file's version names the result (e.g. fujian-2026, which
// should say what it is based on). Problems name the file and line.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, conf.Problems{{File: path, Msg: err.Error()}}
	}
	return parse(path, data, National())
}

// parse decodes data, over base when not nil, and checks the result.
func parse(name string, data []byte, base *Rules) (*Rules, error) {
	if err := conf.CheckAliases(name, data); err != nil {
		return nil, err
	}
	var f Rules
	pos, err := conf.Decode(name, bytes.TrimSpace(data), &f)
	if err != nil {
		return nil, err
	}
	var probs conf.Problems
	rep := conf.NewReport(pos, "", &probs)
	if f.Version == "" {
		rep.Errorf("version", "a rule set needs a version: every check's results record it")
	}
	seen := map[string]bool{}
	for i := range f.Items {
		it := &f.Items[i]
		at := rep.At(fmt.Sprintf("items[%d]", i))
		if it.ID == "" {
			at.Errorf("id", "an item needs an id")
		} else if seen[it.ID] {
			at.Errorf("id", "duplicate item %q", it.ID)
		}
		seen[it.ID] = true
		if it.Disabled {
			continue // its other fields come from the item it drops
		}
		checkItem(at, it)
	}
	if f.PassScore < 0 || f.PassScore > 100 {
		rep.Errorf("pass_score", "must be between 0 and 100, not %v", f.PassScore)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if base == nil {
		return &f, nil
	}
	return merge(base, &f), nil
}

func checkItem(at *conf.Report, it *Item) {
	if it.Name == "" {
		at.Errorf("name", "an item needs a name, in the words of the 通报")
	}
	if it.Class == "" {
		at.Errorf("class", "an item needs the 问题类别 the 通报 groups it under")
	}
	if len(it.Categories) == 0 && it.StaleDays == 0 {
		at.Errorf("", "item %q decides nothing: give categories or stale_days", it.ID)
	}
	for j, c := range it.Categories {
		if _, ok := model.LookupCategory(c); !ok {
			at.Errorf(fmt.Sprintf("categories[%d]", j), "unknown alert category %q", c)
		}
	}
	if it.StaleDays < 0 {
		at.Errorf("stale_days", "must not be negative, not %d", it.StaleDays)
	}
	if it.FiringAtPoint && len(it.Categories) == 0 {
		at.Errorf("firing_at_point", "needs categories")
	}
	if it.Veto && (it.Points != 0 || it.MaxPoints != 0) {
		at.Errorf("points", "a veto item fails the account; it deducts no points")
	}
	if !it.Veto && it.Points <= 0 {
		at.Errorf("points", "a deduction item needs points above 0, not %v", it.Points)
	}
	if it.MaxPoints < 0 {
		at.Errorf("max_points", "must not be negative, not %v", it.MaxPoints)
	}
}

// merge lays over's items on base's, by id, in base's order, new ones last.
func merge(base, over *Rules) *Rules {
	out := &Rules{Version: over.Version, Name: over.Name, PassScore: over.PassScore}
	if out.Name == "" {
		out.Name = base.Name
	}
	if out.PassScore == 0 {
		out.PassScore = base.PassScore
	}
	byID := map[string]Item{}
	for _, it := range over.Items {
		byID[it.ID] = it
	}
	for _, it := range base.Items {
		if o, ok := byID[it.ID]; ok {
			delete(byID, it.ID)
			if o.Disabled {
				continue
			}
			it = o
		}
		out.Items = append(out.Items, it)
	}
	for _, it := range over.Items {
		if _, ok := byID[it.ID]; ok && !it.Disabled {
			out.Items = append(out.Items, it)
		}
	}
	return out
}

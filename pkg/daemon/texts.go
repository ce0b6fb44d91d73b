package daemon

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"maps"
	"slices"
	"strings"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
	"github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
	"github.com/govwatch/govwatch/pkg/analyze/detect/followers"
	"github.com/govwatch/govwatch/pkg/analyze/detect/negative"
	"github.com/govwatch/govwatch/pkg/analyze/detect/profile"
	"github.com/govwatch/govwatch/pkg/analyze/detect/spike"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unanswered"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
	"github.com/govwatch/govwatch/pkg/config"
)

// detectorTemplates are the built-in alert templates of every detector, by
// the name analyzer.texts gives it.
var detectorTemplates = map[string]map[string]string{
	"content":       content.Templates,
	"crossplatform": crossplatform.Templates,
	"duplicate":     duplicate.Templates,
	"emergency":     emergency.Templates,
	"followers":     followers.Templates,
	"negative":      negative.Templates,
	"profile":       profile.Templates,
	"spike":         spike.Templates,
	"staleness":     staleness.Templates,
	"unanswered":    unanswered.Templates,
	"unavailable":   unavailable.Templates,
}

// detectorTexts merges analyzer.texts over the detectors' built-in
// templates; detectors it does not name are absent.
func detectorTexts(cfg *config.Loaded) (map[string]*alerttext.Texts, error) {
	pos := cfg.Positions
	if pos == nil {
		pos = conf.NewPositions(cfg.Path)
	}
	var probs conf.Problems
	out := map[string]*alerttext.Texts{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Analyzer.Texts)) {
		path := "analyzer.texts." + name
		defaults, ok := detectorTemplates[name]
		if !ok {
			probs = append(probs, pos.Problem(path, "unknown detector (%s)", strings.Join(slices.Sorted(maps.Keys(detectorTemplates)), ", ")))
			continue
		}
		merged := maps.Clone(defaults)
		bad := false
		for _, tmpl := range slices.Sorted(maps.Keys(cfg.Analyzer.Texts[name])) {
			body := cfg.Analyzer.Texts[name][tmpl]
			if _, ok := defaults[tmpl]; !ok {
				probs = append(probs, pos.Problem(path+"."+tmpl, "unknown template (%s)", strings.Join(slices.Sorted(maps.Keys(defaults)), ", ")))
				bad = true
				continue
			}
			// Parse each override alone to tell which one is wrong.
			if _, err := alerttext.NewTexts(map[string]string{tmpl: body}); err != nil {
				probs = append(probs, pos.Problem(path+"."+tmpl, "%v", err))
				bad = true
				continue
			}
			merged[tmpl] = body
		}
		if bad {
			continue
		}
		t, err := alerttext.NewTexts(merged)
		if err != nil {
			probs = append(probs, pos.Problem(path, "%v", err))
			continue
		}
		out[name] = t
	}
	if len(probs) > 0 {
		slices.SortStableFunc(probs, func(a, b conf.Problem) int { return a.Line - b.Line })
		return nil, probs
	}
	return out, nil
}

// withTexts gives detector d, named as in analyzer.texts, the deployment's
// templates when it has any.
func withTexts[D interface{ WithTexts(*alerttext.Texts) D }](texts map[string]*alerttext.Texts, name string, d D) D {
	if t := texts[name]; t != nil {
		return d.WithTexts(t)
	}
	return d
}

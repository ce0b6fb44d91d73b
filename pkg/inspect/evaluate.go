package inspect

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Account is the account a check judges, as the registry files it.
type Account struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Unit     string `json:"unit"`
}

// PostRef is a post an evaluation names as evidence.
type PostRef struct {
	ID          string    `json:"id"`
	URL         string    `json:"url,omitempty"`
	Title       string    `json:"title,omitempty"`
	PublishedAt time.Time `json:"published_at"`
}

// Incident is one alert incident of the account, as the history keeps it.
type Incident struct {
	Fingerprint string    `json:"fingerprint"`
	Incident    int       `json:"incident"`
	Category    string    `json:"category"`
	FiredAt     time.Time `json:"fired_at"`
	// ResolvedAt is zero while it fires.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Summary    string    `json:"summary,omitempty"`
	PostID     string    `json:"post_id,omitempty"`
	PostURL    string    `json:"post_url,omitempty"`
	// Dismissed says a person marked the finding as no problem (an allow
	// entry): it is no failure.
	Dismissed bool `json:"dismissed,omitempty"`
}

// Facts are what an evaluation of one account reads.
type Facts struct {
	Account Account
	// LastPost is the account's last post at or before the time point;
	// nil: none in the history.
	LastPost *PostRef
	// Incidents are the account's incidents that fired in the period or
	// were still firing at its start.
	Incidents []Incident
	// Posts are the posts published in the period, and Before the last
	// one before it began (nil: none): what Analyze reads.
	Posts  []PostStat
	Before *PostRef
}

// Period is what a check judges: from From to the time point At.
type Period struct {
	From, At time.Time
}

// Evidence is what decided a finding.
type Evidence struct {
	Kind        string    `json:"kind"` // "incident" or "last_post"
	At          time.Time `json:"at,omitzero"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Incident    int       `json:"incident,omitempty"`
	Category    string    `json:"category,omitempty"`
	PostID      string    `json:"post_id,omitempty"`
	URL         string    `json:"url,omitempty"`
	Text        string    `json:"text"`
}

// Finding is an item the account failed.
type Finding struct {
	Item     string     `json:"item"`
	Name     string     `json:"name"`
	Class    string     `json:"class"`
	Veto     bool       `json:"veto"`
	Points   float64    `json:"points,omitempty"`
	Evidence []Evidence `json:"evidence"`
	// Recurring marks a failure of the previous check's that is still
	// there (整改不到位), set by Recheck.
	Recurring bool `json:"recurring,omitempty"`
}

// Result is one account's outcome.
type Result struct {
	Account Account `json:"account"`
	Passed  bool    `json:"passed"`
	Score   float64 `json:"score"`
	// LastPost is the last update at the time point (检查时最近更新日期).
	LastPost *PostRef  `json:"last_post,omitempty"`
	Findings []Finding `json:"findings"`
	// Rectified are the items the previous check failed the account on
	// and this one does not (已整改), set by Recheck.
	Rectified []string `json:"rectified,omitempty"`
}

// Failed reports whether the result fails item.
func (r *Result) Failed(item string) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Item == item })
}

// Evaluate judges f over p by rules: every item that applies to the
// account's platform, veto items first. An account with a veto finding
// fails; otherwise it passes with a score of at least rules.PassScore.
func Evaluate(rules *Rules, f *Facts, p Period) Result {
	res := Result{Account: f.Account, Score: 100, LastPost: f.LastPost}
	veto := false
	for i := range rules.Items {
		it := &rules.Items[i]
		if !it.AppliesTo(f.Account.Platform) {
			continue
		}
		ev := evidence(it, f, p)
		if len(ev) == 0 {
			continue
		}
		fd := Finding{Item: it.ID, Name: it.Name, Class: it.Class, Veto: it.Veto, Evidence: ev}
		if it.Veto {
			veto = true
		} else {
			fd.Points = it.Points * float64(len(ev))
			if it.MaxPoints > 0 {
				fd.Points = math.Min(fd.Points, it.MaxPoints)
			}
			res.Score -= fd.Points
		}
		res.Findings = append(res.Findings, fd)
	}
	res.Score = math.Max(res.Score, 0)
	sort.SliceStable(res.Findings, func(i, j int) bool { return res.Findings[i].Veto && !res.Findings[j].Veto })
	res.Passed = !veto && res.Score >= rules.PassScore
	return res
}

// evidence lists what fails it for f in p; none: it passes.
func evidence(it *Item, f *Facts, p Period) []Evidence {
	var out []Evidence
	if it.StaleDays > 0 {
		limit := time.Duration(it.StaleDays) * 24 * time.Hour
		switch {
		case f.LastPost == nil:
			out = append(out, Evidence{Kind: "last_post", Text: "历史记录中无任何发布"})
		case p.At.Sub(f.LastPost.PublishedAt) > limit:
			lp := f.LastPost
			days := int(p.At.Sub(lp.PublishedAt) / (24 * time.Hour))
			out = append(out, Evidence{Kind: "last_post", At: lp.PublishedAt, PostID: lp.ID, URL: lp.URL,
				Text: fmt.Sprintf("最近更新于 %s，至检查时点已 %d 天未更新（要求 %d 天内）", lp.PublishedAt.In(cst).Format("2006-01-02"), days, it.StaleDays)})
		}
	}
	for _, inc := range f.Incidents {
		if inc.Dismissed || !slices.Contains(it.Categories, inc.Category) || !inPeriod(inc, p, it.FiringAtPoint) {
			continue
		}
		text := inc.Summary
		if text == "" {
			text = inc.Category
		}
		out = append(out, Evidence{Kind: "incident", At: inc.FiredAt, Fingerprint: inc.Fingerprint, Incident: inc.Incident,
			Category: inc.Category, PostID: inc.PostID, URL: inc.PostURL, Text: text})
	}
	return out
}

// inPeriod reports whether inc counts in p: it fired by the time point and
// had not ended before the period began; with atPoint, it still fired at
// the time point.
func inPeriod(inc Incident, p Period, atPoint bool) bool {
	if inc.FiredAt.After(p.At) {
		return false
	}
	ended := !inc.ResolvedAt.IsZero()
	if atPoint {
		return !ended || inc.ResolvedAt.After(p.At)
	}
	return !ended || !inc.ResolvedAt.Before(p.From)
}

// cst is the time zone dates in evidence are written in.
var cst = time.FixedZone("CST", 8*3600)

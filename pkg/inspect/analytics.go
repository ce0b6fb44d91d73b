package inspect

import (
	"math"
	"slices"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

// PostStat is one of an account's posts in a period, with the engagement
// last collected for it.
type PostStat struct {
	PublishedAt time.Time
	Metrics     model.Metrics
}

// Stats are an account's figures over a period, for supervisors' rankings.
type Stats struct {
	Posts int `json:"posts"`
	// DaysSinceLast is whole days from the last post to the time point;
	// -1 when there is none.
	DaysSinceLast int `json:"days_since_last"`
	// LongestGap is the longest silence in the period, in days: between
	// two posts, or from the last post before the period (or the period's
	// start) to the first, or from the last to the time point.
	LongestGap float64 `json:"longest_gap_days"`
	// DaysOutOfCompliance counts the period's days that ended with the
	// last post older than the stale limit (14 days).
	DaysOutOfCompliance int `json:"days_out_of_compliance"`
	// Index is the influence index: WCI for WeChat, BCI for the others.
	Index     float64 `json:"index"`
	IndexName string  `json:"index_name"`
}

// Analyze computes f's figures over p, with staleDays as the limit of
// DaysOutOfCompliance (the national 14). f.Posts must hold the posts
// published in the period; f.LastPost the last one at the time point.
func Analyze(f *Facts, p Period, staleDays int) Stats {
	posts := slices.Clone(f.Posts)
	slices.SortFunc(posts, func(a, b PostStat) int { return a.PublishedAt.Compare(b.PublishedAt) })
	s := Stats{Posts: len(posts), DaysSinceLast: -1}
	if f.LastPost != nil {
		s.DaysSinceLast = int(p.At.Sub(f.LastPost.PublishedAt) / (24 * time.Hour))
	}
	// Silences: the last post before the period, else the period's start,
	// to each post in turn, and the last to the time point.
	prev := p.From
	if f.Before != nil {
		prev = f.Before.PublishedAt
	}
	var stamps []time.Time
	if prev != p.From {
		stamps = append(stamps, prev)
	}
	for _, ps := range posts {
		if d := ps.PublishedAt.Sub(prev).Hours() / 24; d > s.LongestGap {
			s.LongestGap = d
		}
		prev = ps.PublishedAt
		stamps = append(stamps, ps.PublishedAt)
	}
	if d := p.At.Sub(prev).Hours() / 24; d > s.LongestGap {
		s.LongestGap = d
	}
	limit := time.Duration(staleDays) * 24 * time.Hour
	for end := p.From.Add(24 * time.Hour); !end.After(p.At.Add(time.Minute)); end = end.Add(24 * time.Hour) {
		// The last post at or before the day's end.
		i, _ := slices.BinarySearchFunc(stamps, end, func(t, target time.Time) int {
			if t.After(target) {
				return 1
			}
			return -1
		})
		if i == 0 || end.Sub(stamps[i-1]) > limit {
			s.DaysOutOfCompliance++
		}
	}
	days := math.Max(p.At.Sub(p.From).Hours()/24, 1)
	if f.Account.Platform == "wechat" {
		s.Index, s.IndexName = WCI(posts, days), "WCI"
	} else {
		s.Index, s.IndexName = BCI(posts, days), "BCI"
	}
	return s
}

// wciPart is one of WCI's four parts over reads R, 在看 Z, likes L and
// shares S.
func wciPart(r, z, l, s float64) float64 {
	return 0.70*math.Log(r+1) + 0.09*math.Log(10*z+1) + 0.06*math.Log(10*l+1) + 0.15*math.Log(10*s+1)
}

// WCI is the WeChat influence index in the form gsdata publishes (V14):
// (0.6·O + 0.2·A + 0.1·H + 0.1·P)² × 12, each part wciPart of the period's
// daily totals (O), per-article means (A), daily totals of headline
// articles (H) and the single best article (P). govwatch's reading: views
// are reads (a "10万+" counts as 100,001 where a source writes it so); the
// platforms' APIs give no 在看, so Z is 0; the first post of a day is its
// headline. days is the period's length.
func WCI(posts []PostStat, days float64) float64 {
	if len(posts) == 0 {
		return 0
	}
	var tot, head, peak [4]float64
	seenDay := map[string]bool{}
	for _, p := range posts {
		v := [4]float64{float64(p.Metrics.Views), 0, float64(p.Metrics.Likes), float64(p.Metrics.Shares)}
		for i := range v {
			tot[i] += v[i]
			peak[i] = math.Max(peak[i], v[i])
		}
		if day := p.PublishedAt.In(cst).Format("2006-01-02"); !seenDay[day] {
			seenDay[day] = true
			for i := range v {
				head[i] += v[i]
			}
		}
	}
	n := float64(len(posts))
	o := wciPart(tot[0]/days, tot[1]/days, tot[2]/days, tot[3]/days)
	a := wciPart(tot[0]/n, tot[1]/n, tot[2]/n, tot[3]/n)
	h := wciPart(head[0]/days, head[1]/days, head[2]/days, head[3]/days)
	pk := wciPart(peak[0], peak[1], peak[2], peak[3])
	x := 0.6*o + 0.2*a + 0.1*h + 0.1*pk
	return x * x * 12
}

// BCI is the Weibo influence index in the form gsdata publishes:
// (0.2·ln(posts+1) + 0.8·(0.4·ln(reposts+1) + 0.4·ln(comments+1) +
// 0.2·ln(likes+1))) × 160, govwatch taking each count per day of the
// period (shares as reposts). It ranks Douyin, Toutiao and the other
// platforms too, which have no published index of their own.
func BCI(posts []PostStat, days float64) float64 {
	var shares, comments, likes float64
	for _, p := range posts {
		shares += float64(p.Metrics.Shares)
		comments += float64(p.Metrics.Comments)
		likes += float64(p.Metrics.Likes)
	}
	n := float64(len(posts)) / days
	return (0.2*math.Log(n+1) + 0.8*(0.4*math.Log(shares/days+1)+0.4*math.Log(comments/days+1)+0.2*math.Log(likes/days+1))) * 160
}

package inspect

import (
	"math"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestAnalyzeGapsAndCompliance(t *testing.T) {
	p := Period{From: quarterStart, At: quarterStart.Add(days(90))}
	at := func(d int) PostStat { return PostStat{PublishedAt: quarterStart.Add(days(d))} }
	// Posts on days 2, 3 and 40 of the quarter, one 5 days before it.
	f := &Facts{Account: Account{Platform: "weibo"}, Before: &PostRef{PublishedAt: quarterStart.Add(-days(5))},
		Posts: []PostStat{at(40), at(2), at(3)}, LastPost: &PostRef{PublishedAt: quarterStart.Add(days(40))}}
	s := Analyze(f, p, 14)
	if s.Posts != 3 || s.DaysSinceLast != 50 || s.LongestGap != 50 {
		t.Errorf("posts %d, days since last %d, longest gap %v: want 3, 50, 50", s.Posts, s.DaysSinceLast, s.LongestGap)
	}
	// Out of compliance: days 18..40 end with the last post (day 3) older
	// than 14 days — the ends of days 18 to 39, 22 days — and days 55 to 90
	// (after day 40), 36 days.
	if s.DaysOutOfCompliance != 22+36 {
		t.Errorf("days out of compliance %d, want %d", s.DaysOutOfCompliance, 22+36)
	}
	none := Analyze(&Facts{Account: Account{Platform: "wechat"}}, p, 14)
	if none.DaysSinceLast != -1 || none.DaysOutOfCompliance != 90 || none.LongestGap != 90 || none.Index != 0 {
		t.Errorf("an account that never posted: %+v", none)
	}
}

func TestInfluenceIndices(t *testing.T) {
	day := func(d, h int) time.Time { return quarterStart.Add(days(d) + time.Duration(h)*time.Hour) }
	posts := []PostStat{
		{PublishedAt: day(0, 1), Metrics: model.Metrics{Views: 1000, Likes: 20, Shares: 5, Comments: 3}},
		{PublishedAt: day(0, 2), Metrics: model.Metrics{Views: 100, Likes: 2, Shares: 1, Comments: 1}},
		{PublishedAt: day(1, 1), Metrics: model.Metrics{Views: 400, Likes: 8, Shares: 2, Comments: 0}},
	}
	// By hand: two days; totals R 1500 L 30 S 8; headlines (first of each
	// day) R 1400 L 28 S 7; peak R 1000 L 20 S 5.
	part := func(r, l, s float64) float64 {
		return 0.70*math.Log(r+1) + 0.06*math.Log(10*l+1) + 0.15*math.Log(10*s+1)
	}
	x := 0.6*part(750, 15, 4) + 0.2*part(500, 10, 8.0/3) + 0.1*part(700, 14, 3.5) + 0.1*part(1000, 20, 5)
	if got, want := WCI(posts, 2), x*x*12; !near(got, want) {
		t.Errorf("WCI %v, want %v", got, want)
	}
	bci := (0.2*math.Log(1.5+1) + 0.8*(0.4*math.Log(4+1)+0.4*math.Log(2+1)+0.2*math.Log(15+1))) * 160
	if got := BCI(posts, 2); !near(got, bci) {
		t.Errorf("BCI %v, want %v", got, bci)
	}
	if WCI(nil, 90) != 0 || BCI(nil, 90) != 0 {
		t.Error("no posts, yet an index")
	}
}

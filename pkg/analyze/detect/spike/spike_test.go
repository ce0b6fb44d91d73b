package spike_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/spike"
	"github.com/govwatch/govwatch/pkg/model"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "spike", detecttest.Configured(t, spike.Defaults, spike.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    spike:
      min_history: 10
      history: 5
      alpha: 1.5
      quiet_after: 5m
`,
		`govwatch.yaml:6: analyzer.detectors.spike.history: must be at least 10, not 5`,
		`govwatch.yaml:7: analyzer.detectors.spike.alpha: must be above 0 and at most 1, not 1.5`,
		`govwatch.yaml:8: analyzer.detectors.spike.quiet_after: must be at least min_interval and 1m, not 5m`,
	)
}

// BenchmarkPost re-polls 100 posts of 10 accounts round after round, 10
// minutes apart, each with new metrics: one op is one re-polled post.
func BenchmarkPost(b *testing.B) {
	reg := detecttest.BenchRegistry(10, 1, "weibo")
	t0 := detecttest.BenchStart
	detecttest.Bench(b, reg, detecttest.Configured(b, spike.Defaults, spike.New), func(i int) detecttest.Event {
		round, k := i/100, i%100
		acct := fmt.Sprintf("u%d-weibo", k%10)
		at := t0.Add(time.Duration(round)*10*time.Minute + time.Duration(k)*time.Second)
		n := int64(round * (5 + k%7))
		p := &model.Post{ID: fmt.Sprintf("weibo/%s/%d", acct, k), AccountID: acct, Platform: "weibo", Kind: model.KindPost,
			Title: "通知", PublishedAt: t0, CollectedAt: at, Metrics: model.Metrics{Likes: n, Comments: n / 3, Shares: n / 5}}
		return detecttest.Event{At: at, Post: p}
	})
}

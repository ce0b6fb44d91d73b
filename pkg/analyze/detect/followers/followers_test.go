package followers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/followers"
	"github.com/govwatch/govwatch/pkg/model"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "followers", detecttest.Configured(t, followers.Defaults, followers.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    followers:
      min_jump: 0
`,
		`govwatch.yaml:5: analyzer.detectors.followers.min_jump: must be at least 1, not 0`,
	)
}

// BenchmarkSnapshot snapshots 100 accounts every hour, each growing a
// little: one op is one snapshot (a full history after 28 days of them).
func BenchmarkSnapshot(b *testing.B) {
	reg := detecttest.BenchRegistry(100, 1, "weibo")
	t0 := detecttest.BenchStart
	detecttest.Bench(b, reg, detecttest.Configured(b, followers.Defaults, followers.New), func(i int) detecttest.Event {
		hour, k := i/100, i%100
		at := t0.Add(time.Duration(hour)*time.Hour + time.Duration(k)*time.Second)
		s := &model.AccountSnapshot{AccountID: fmt.Sprintf("u%d-weibo", k), Platform: "weibo",
			Followers: int64(10000 + hour*(10+k%5)), TakenAt: at}
		return detecttest.Event{At: at, Snapshot: s}
	})
}

package spike_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/spike"
	"github.com/govwatch/govwatch/pkg/model"
)

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

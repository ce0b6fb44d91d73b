package negative_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/negative"
	"github.com/govwatch/govwatch/pkg/model"
)

// BenchmarkComment spreads comments over 100 posts of 10 accounts, one in
// five negative: one op is one comment.
func BenchmarkComment(b *testing.B) {
	reg := detecttest.BenchRegistry(10, 1, "weibo")
	t0 := detecttest.BenchStart
	texts := []string{"排队三小时没人管，我要投诉", "感谢发布，已转发", "收到，谢谢提醒", "希望越办越好", "学习了"}
	detecttest.Bench(b, reg, detecttest.ConfiguredOrError(b, negative.Defaults, negative.New), func(i int) detecttest.Event {
		k := i % 100
		acct := fmt.Sprintf("u%d-weibo", k%10)
		at := t0.Add(time.Duration(i) * time.Second)
		p := &model.Post{ID: fmt.Sprintf("weibo/%s/c%d", acct, i), AccountID: acct, Platform: "weibo", Kind: model.KindComment,
			ParentID: fmt.Sprintf("weibo/%s/%d", acct, k), Text: texts[i%len(texts)], PublishedAt: at, CollectedAt: at}
		return detecttest.Event{At: at, Post: p}
	})
}

package emergency_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
	"github.com/govwatch/govwatch/pkg/model"
)

// BenchmarkPost sends posts of 50 accounts in 5 regions, one in ten with an
// emergency term, a post every 10 seconds: one op is one post.
func BenchmarkPost(b *testing.B) {
	reg := detecttest.BenchRegistry(50, 5, "weibo")
	t0 := detecttest.BenchStart
	plain := "市政府召开常务会议，研究部署冬季安全生产和民生保障工作，要求各地各部门压实责任。"
	hot := "城东工业园区一厂房发生火灾，消防救援人员已赶赴现场处置，暂无人员伤亡报告。"
	detecttest.Bench(b, reg, detecttest.ConfiguredOrError(b, emergency.Defaults, emergency.New), func(i int) detecttest.Event {
		acct := fmt.Sprintf("u%d-weibo", i%50)
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		text := plain
		if i%10 == 0 {
			text = hot
		}
		p := &model.Post{ID: fmt.Sprintf("weibo/%s/%d", acct, i), AccountID: acct, Platform: "weibo", Kind: model.KindPost,
			Text: text, PublishedAt: at, CollectedAt: at}
		return detecttest.Event{At: at, Post: p}
	})
}

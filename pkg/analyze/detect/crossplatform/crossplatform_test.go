package crossplatform_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/model"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "crossplatform", detecttest.Configured(t, crossplatform.Defaults, crossplatform.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    crossplatform:
      similarity: 2
      max_posts: 1
`,
		`govwatch.yaml:5: analyzer.detectors.crossplatform.similarity: must be above 0 and at most 1, not 2`,
		`govwatch.yaml:6: analyzer.detectors.crossplatform.max_posts: must be 2 to 256, not 1`,
	)
}

var phrases = []string{
	"因管网改造部分路段停水", "海峡旅游博览会开幕", "集采药品在公立医疗机构落地", "人口普查入户登记启动",
	"冬季森林防火专项检查", "事业单位公开招聘报名延长", "地铁新线开通试运营", "老旧小区改造加快推进",
	"义务教育招生政策公布", "养老服务补贴发放", "营商环境评价结果出炉", "农村供水保障工程完工",
	"文明城市创建测评开始", "夜间经济示范街区挂牌", "新能源汽车充电桩建设", "河湖长制考核结果公布",
	"政务服务一网通办上线", "公积金贷款政策调整", "流感疫苗免费接种开放", "城市书房新增二十家",
}

// text is post src's text, four phrases picked by src, with a date.
func text(src, day int) string {
	h := uint32(src)*2654435761 + 1
	var b strings.Builder
	for k := range 4 {
		b.WriteString(phrases[(h>>(k*5))%uint32(len(phrases))])
		b.WriteString("，")
	}
	fmt.Fprintf(&b, "时间为11月%d日，详情请见第%d号公告。", day, src)
	return b.String()
}

// BenchmarkPost sends posts of 10 units on 3 platforms, a post every 10
// minutes, each unit's window full (32 posts): one op is one post compared
// with its unit's window. Every third post repeats an earlier text on
// another platform with a different date, so diffs and alerts run too.
func BenchmarkPost(b *testing.B) {
	platforms := []string{"weibo", "wechat", "douyin"}
	reg := detecttest.BenchRegistry(10, 1, platforms...)
	t0 := detecttest.BenchStart
	detecttest.Bench(b, reg, detecttest.Configured(b, crossplatform.Defaults, crossplatform.New), func(i int) detecttest.Event {
		unit, plat := i%10, platforms[(i/10)%3]
		acct := fmt.Sprintf("u%d-%s", unit, plat)
		// Post i-10 is the same unit's previous post, on another platform.
		src, day := i, 1+i%28
		if i%3 == 2 && i >= 10 {
			src = i - 10
		}
		text := text(src, day)
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		p := &model.Post{ID: fmt.Sprintf("%s/%s/%d", plat, acct, i), AccountID: acct, Platform: plat, Kind: model.KindPost,
			Text: text, PublishedAt: at, CollectedAt: at}
		return detecttest.Event{At: at, Post: p}
	})
}

package negative_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/negative"
	"github.com/govwatch/govwatch/pkg/model"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "negative", detecttest.ConfiguredOrError(t, negative.Defaults, negative.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    negative:
      min_share: 0
      lexicon: missing.txt
`,
		`govwatch.yaml:5: analyzer.detectors.negative.min_share: must be above 0 and at most 1, not 0`,
		`govwatch.yaml:6: analyzer.detectors.negative.lexicon: cannot read "missing.txt"`,
	)
}

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

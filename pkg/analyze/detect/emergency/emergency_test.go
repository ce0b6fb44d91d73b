package emergency_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
	"github.com/govwatch/govwatch/pkg/model"
)

func newDetector(t testing.TB, cfg emergency.Config) *emergency.Detector {
	t.Helper()
	d, err := emergency.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "emergency", detecttest.ConfiguredOrError(t, emergency.Defaults, emergency.New))
}

func TestTerms(t *testing.T) {
	d := newDetector(t, emergency.Defaults())
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"五四路小区发生燃气爆炸，有人员被困。", []string{"爆炸", "被困"}},
		{"请注意防范火灾。", nil},
		{"请注意防范火灾。城东仓库起火！", []string{"起火"}},
		{"今日天气晴好", nil},
	} {
		if got := d.Terms(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Terms(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    emergency:
      window: 30s
      table_size: 100000
`,
		`govwatch.yaml:5: analyzer.detectors.emergency.window: must be at least 1m, not 30s`,
		`govwatch.yaml:6: analyzer.detectors.emergency.table_size: must be 16 to 4096, not 100000`,
	)
}

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

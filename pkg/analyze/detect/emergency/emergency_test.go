package emergency_test

import (
	"reflect"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
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

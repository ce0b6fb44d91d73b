package content_test

import (
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) and holds the README's sample to the code. Besides
// the comparison, no annotation of any alert may carry an unmasked number:
// the alert must not spread the leak it reports.
func TestConformance(t *testing.T) {
	got := detecttest.Conformance(t, "content", func(*detecttest.Case) any { return content.New(nil) })
	for name, ps := range got {
		for _, p := range ps {
			for k, v := range p.Alert.Annotations {
				for _, f := range textscan.ScanPersonalData(v) {
					t.Errorf("%s: %s alert annotation %s carries %s unmasked: %q", name, p.Alert.Name(), k, f.Category, v)
				}
			}
		}
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"13912345678", "139****5678"},
		{"350702198503123019", "350***********3019"},
		{"35070219850312301X", "350***********301X"},
		{"+86 139 1234 5678", "+86 1** **** 5678"},
		{"１３９１２３４５６７８", "１３９****５６７８"},
	} {
		if got := content.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Count(content.Mask(tc.in), "*") == 0 {
			t.Errorf("Mask(%q) hides nothing", tc.in)
		}
	}
}

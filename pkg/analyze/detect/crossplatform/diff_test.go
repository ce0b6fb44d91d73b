package crossplatform

import (
	"reflect"
	"strings"
	"testing"
)

func TestDifferences(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want []Difference
	}{
		{"same", "鼓楼区东街停水", "鼓楼区东街停水", nil},
		{"date", "11月28日停水", "11月29日停水", []Difference{{KindDate, "28日", "29日"}}},
		{"time", "8:00至18:00停水", "8:30至18:00停水", []Difference{{KindNumber, "8:00", "8:30"}}},
		{"phone", "咨询电话0591-87654321。", "咨询电话0591-87654312。", []Difference{{KindPhone, "0591-87654321", "0591-87654312"}}},
		{"name", "联系人王明同志", "联系人王敏同志", []Difference{{KindName, "王明同", "王敏同"}}},
		{"added on one side only", "停水通知", "停水通知 阅读原文", nil},
		{"punctuation only", "停水，通知", "停水。通知", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Differences(tc.a, tc.b)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Differences(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// FuzzDifferences: any two texts (posts come from the outside world) give
// differences without panicking, each side a piece of its own text, and a
// text never differs from itself; signatures of equal texts agree.
func FuzzDifferences(f *testing.F) {
	f.Add("11月28日停水", "11月29日停水")
	f.Add("咨询电话0591-87654321。", "咨询电话0591-87654312。")
	f.Add("联系人王明同志", "联系人王敏同志")
	f.Add("", "停水")
	f.Add("\xff\xfe", "a1b2")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, d := range Differences(a, b) {
			if d.A != "" && !strings.Contains(string([]rune(a)), d.A) || d.B != "" && !strings.Contains(string([]rune(b)), d.B) {
				t.Errorf("Differences(%q, %q) gave %+v, not pieces of the texts", a, b, d)
			}
		}
		if ds := Differences(a, a); len(ds) != 0 {
			t.Errorf("Differences(%q, itself) = %v, want none", a, ds)
		}
		if sa, sb := TextSignature(a), TextSignature(a); sa.Similarity(&sb) != 1 {
			t.Errorf("TextSignature(%q) not stable", a)
		}
	})
}

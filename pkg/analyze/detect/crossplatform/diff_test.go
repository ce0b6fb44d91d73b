package crossplatform

import (
	"reflect"
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

package registry

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	units := []Unit{
		{ID: "fj-gov", Name: "福建省人民政府办公厅", Region: "350000"},
		{ID: "fz-gov", Name: "福州市人民政府办公厅", Region: "350100", Parent: "fj-gov"},
		{ID: "fz-edu", Name: "福州市教育局", Region: "350100", Parent: "fz-gov"},
	}
	tests := []struct {
		name     string
		accounts []Account
		want     map[string]float64 // platform/region/status → accounts
	}{
		{
			name: "by platform, region of the unit and status",
			accounts: []Account{
				{ID: "fj-gov-weibo", Platform: "weibo", Unit: "fj-gov"},
				{ID: "fz-wechat", Platform: "wechat", Unit: "fz-gov"},
				{ID: "fz-edu-wechat", Platform: "wechat", Unit: "fz-edu"},
				{ID: "fz-edu-douyin", Platform: "douyin", Unit: "fz-edu", Status: StatusSuspended},
				{ID: "fz-old-weibo", Platform: "weibo", Unit: "fz-gov", Status: StatusClosed},
			},
			want: map[string]float64{
				"douyin/350100/suspended": 1,
				"wechat/350100/active":    2,
				"weibo/350000/active":     1,
				"weibo/350100/closed":     1,
			},
		},
		{name: "no accounts, no series", want: map[string]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, probs := New(units, tc.accounts)
			if len(probs) > 0 {
				t.Fatalf("registry: %v", probs)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(NewCollector(r))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("gather: %v", err)
			}
			got := map[string]float64{}
			for _, mf := range mfs {
				if mf.GetName() != "govwatch_registry_accounts" {
					t.Errorf("got metric %s, want only govwatch_registry_accounts", mf.GetName())
				}
				for _, m := range mf.GetMetric() {
					l := map[string]string{}
					for _, lp := range m.GetLabel() {
						l[lp.GetName()] = lp.GetValue()
					}
					got[l["platform"]+"/"+l["region"]+"/"+l["status"]] = m.GetGauge().GetValue()
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

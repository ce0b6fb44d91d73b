package daemon

import (
	"slices"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/registry"
)

// TestCoverageLog: the start-up log says a unit's head is paged instead of
// a duty team only when a page can reach that head, and warns of every
// unit whose alerts page nobody, with a roster and without one.
func TestCoverageLog(t *testing.T) {
	reg, probs := registry.New([]registry.Unit{
		{ID: "team", Name: "有值班组"},
		{ID: "head", Name: "负责人有手机", Head: registry.Contact{Name: "主任", Mobile: "13900000001"}},
		{ID: "mail", Name: "负责人有邮箱", Head: registry.Contact{Name: "主任", Email: "zr@example.gov.cn"}},
		{ID: "name", Name: "负责人只有姓名", Head: registry.Contact{Name: "主任"}},
		{ID: "none", Name: "没有负责人"},
		{ID: "closed", Name: "账号已关停"},
	}, []registry.Account{
		{ID: "team-w", Name: "a", Platform: "wechat", Unit: "team"},
		{ID: "head-w", Name: "b", Platform: "wechat", Unit: "head"},
		{ID: "head-d", Name: "b2", Platform: "douyin", Unit: "head"},
		{ID: "mail-w", Name: "c", Platform: "wechat", Unit: "mail"},
		{ID: "name-w", Name: "d", Platform: "wechat", Unit: "name"},
		{ID: "none-w", Name: "e", Platform: "wechat", Unit: "none"},
		{ID: "closed-w", Name: "f", Platform: "wechat", Unit: "closed", Status: registry.StatusClosed},
	})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{{Unit: "team", Layers: []roster.LayerConfig{
		{Rotation: "daily", Handoff: "08:30", Start: "2026-01-01", Members: []roster.PersonConfig{{Name: "值班", Mobile: "13800000001"}}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const headPaged = "unit has no duty team; its head is paged instead"
	const nobody = "unit has no duty team and no head to page: its alerts page nobody and raise system.unrouted"
	tests := []struct {
		name   string
		roster *roster.Roster
		want   []string // "message unit", in order
	}{
		{"with a roster", ro, []string{nobody + " name", nobody + " none", headPaged + " head", headPaged + " mail"}},
		{"without a roster", nil, []string{nobody + " name", nobody + " none", nobody + " team", headPaged + " head", headPaged + " mail"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			logCoverage(zap.New(core), &escalate.Directory{Registry: reg, Roster: tc.roster})
			var got []string
			for _, e := range logs.All() {
				got = append(got, e.Message+" "+e.ContextMap()["unit"].(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("logged\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

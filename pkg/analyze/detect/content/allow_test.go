package content_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// readsOf counts the allow lists a store is asked for.
type readsOf struct {
	store.Store
	allowGets int
}

func (s *readsOf) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasPrefix(key, "allow/") {
		s.allowGets++
	}
	return s.Store.Get(ctx, key)
}

type firing struct{ alerts []string }

func (f *firing) PublishAlert(_ context.Context, a *model.Alert) (bool, error) {
	if a.EndsAt.IsZero() {
		f.alerts = append(f.alerts, a.Labels[model.LabelPostID]+" "+a.Name())
	}
	return false, nil
}

// TestAllowEntriesByScope: each scope covers what it names and nothing
// else; a post without findings reads no allow list, one with findings
// reads four.
func TestAllowEntriesByScope(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 20, 2, 3, 0, 0, time.UTC))
	db, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &readsOf{Store: db}
	reg, probs := registry.New(
		[]registry.Unit{{ID: "np-edu", Name: "南平市教育局"}, {ID: "np-gov", Name: "南平市政府办"}},
		[]registry.Account{
			{ID: "np-edu-wechat", Name: "南平教育", Platform: "wechat", Unit: "np-edu"},
			{ID: "np-edu-weibo", Name: "南平教育微博", Platform: "weibo", Unit: "np-edu"},
			{ID: "np-gov-weibo", Name: "南平发布", Platform: "weibo", Unit: "np-gov"},
		})
	if probs != nil {
		t.Fatal(probs)
	}
	pub := &firing{}
	env := &detect.Env{Registry: reg, Store: st, Publisher: pub, Now: clock.Now}
	d := content.New(nil)
	n := 0
	judge := func(account, text string) string {
		t.Helper()
		acct, _ := reg.Account(account)
		n++
		p := &model.Post{Schema: 1, AccountID: acct.ID, Platform: acct.Platform, NativeID: string(rune('a' + n)), Kind: model.KindPost,
			Title: "通知", Text: text, PublishedAt: clock.Now(), CollectedAt: clock.Now()}
		p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
		if err := d.Post(ctx, env, p, acct); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	fired := func(id string) []string {
		var out []string
		for _, a := range pub.alerts {
			if rest, ok := strings.CutPrefix(a, id+" "); ok {
				out = append(out, rest)
			}
		}
		return out
	}

	judge("np-edu-wechat", "为进一步提升政务服务效能，现将有关事项通知如下。")
	if st.allowGets != 0 {
		t.Errorf("a post without findings read %d allow lists, want none", st.allowGets)
	}
	judge("np-edu-wechat", "咨询电话13912345678。")
	if st.allowGets != 4 {
		t.Errorf("a post with findings read %d allow lists, want 4 (post, account, unit, everywhere)", st.allowGets)
	}

	es := allow.New(st)
	add := func(e allow.Entry) {
		t.Helper()
		e.Reason, e.By = "公开的咨询电话", "值班员"
		if _, err := es.Add(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	phone := model.CategoryPrivacyPhone
	add(allow.Entry{Scope: allow.ScopeAccount, Target: "np-edu-wechat", Category: phone, Match: "13912345678"})
	add(allow.Entry{Scope: allow.ScopeUnit, Target: "np-gov", Category: phone, Rule: "validator.mobile", Match: "13800001111"})

	tests := []struct {
		account, text string
		want          []string
	}{
		{"np-edu-wechat", "咨询电话13912345678。", nil},
		{"np-edu-wechat", "咨询电话１３９１２３４５６７８。", nil}, // the match is compared normalised
		{"np-edu-wechat", "咨询电话13912345679。", []string{phone}},
		{"np-edu-weibo", "咨询电话13912345678。", []string{phone}}, // another account of the unit
		{"np-gov-weibo", "咨询电话13800001111，希望大家再接再励。", []string{model.CategoryWordingTypo}},
		{"np-edu-weibo", "咨询电话13800001111。", []string{phone}}, // another unit
	}
	for _, tc := range tests {
		id := judge(tc.account, tc.text)
		if got := fired(id); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q fired %v, want %v", tc.account, tc.text, got, tc.want)
		}
	}

	add(allow.Entry{Scope: allow.ScopeEverywhere, Category: phone, Rule: "validator.mobile"})
	if got := fired(judge("np-edu-weibo", "咨询电话13800001111。")); len(got) != 0 {
		t.Errorf("after an entry everywhere for the rule, a phone number fired %v", got)
	}
}

package content_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// counting passes alerts to the real bus and counts what it reports as
// duplicates.
type counting struct {
	*bus.Bus
	mu         sync.Mutex
	duplicates int
}

func (c *counting) PublishAlert(ctx context.Context, a *model.Alert) (bool, error) {
	dup, err := c.Bus.PublishAlert(ctx, a)
	c.mu.Lock()
	if dup {
		c.duplicates++
	}
	c.mu.Unlock()
	return dup, err
}

// TestRedeliveryIsDroppedByTheBus delivers one post version twice through a
// real embedded JetStream: the second delivery's alerts are identical, so the
// alert stream keeps one firing per category; an edit's resolution gets
// through.
func TestRedeliveryIsDroppedByTheBus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Embedded: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 20, 2, 3, 0, 0, time.UTC))
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, probs := registry.New([]registry.Unit{{ID: "np-edu", Name: "南平市教育局", Region: "350700"}},
		[]registry.Account{{ID: "np-edu-wechat", Name: "南平教育", Platform: "wechat", Unit: "np-edu"}})
	if probs != nil {
		t.Fatal(probs)
	}
	pub := &counting{Bus: b}
	env := &detect.Env{Registry: reg, Store: st, Publisher: pub, Now: clock.Now}
	acct, _ := reg.Account("np-edu-wechat")
	d := content.New(nil)

	p := &model.Post{Schema: 1, AccountID: acct.ID, Platform: acct.Platform, NativeID: "7006", Kind: model.KindPost,
		URL: "https://mp.example/7006", Title: "助学金公示", Text: "联系电话13912345678，身份证号350702198503123019。",
		PublishedAt: clock.Now().Add(-3 * time.Minute), CollectedAt: clock.Now()}
	p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
	p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)

	msgs := func() uint64 {
		t.Helper()
		return bustest.AlertStream(t, b).Msgs
	}

	for i := range 2 { // the second is a redelivery of the same version
		cp := *p
		if err := d.Post(ctx, env, &cp, acct); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		clock.Advance(30 * time.Second)
	}
	if got, want := msgs(), uint64(2); got != want {
		t.Errorf("after a redelivery the alert stream holds %d messages, want %d (phone and id firing once each)", got, want)
	}
	if pub.duplicates != 2 {
		t.Errorf("bus reported %d duplicates, want 2", pub.duplicates)
	}

	edit := *p
	edit.Text = "联系电话139****5678，身份证号350702198503123019。"
	edit.ContentHash = model.ContentHash(edit.Title, edit.Text, edit.URL)
	edit.CollectedAt = clock.Now()
	if err := d.Post(ctx, env, &edit, acct); err != nil {
		t.Fatal(err)
	}
	if got, want := msgs(), uint64(3); got != want {
		t.Errorf("after the edit the alert stream holds %d messages, want %d (phone resolved; id firing again is a duplicate)", got, want)
	}
	if pub.duplicates != 3 {
		t.Errorf("bus reported %d duplicates, want 3", pub.duplicates)
	}
}

package bus

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/model"
)

// openEmbedded opens a bus on an in-process server storing in a fresh
// t.TempDir (or o.StoreDir when set) and closes it when the test ends.
func openEmbedded(t testing.TB, o Options) *Bus {
	t.Helper()
	o.Embedded = true
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testLogger(t testing.TB) *zap.Logger {
	if tt, ok := t.(*testing.T); ok {
		return zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel))
	}
	return zap.NewNop()
}

func testPost(i int) *model.Post {
	text := fmt.Sprintf("第%d条政务信息。", i) + strings.Repeat("福建省人民政府发布通知，", 40)
	p := &model.Post{
		Schema:      model.SchemaVersion,
		AccountID:   "fj-gov-weibo",
		Platform:    "weibo",
		NativeID:    fmt.Sprint(4890000 + i),
		Kind:        model.KindPost,
		Title:       "通知",
		Text:        text,
		URL:         fmt.Sprintf("https://weibo.example/%d", i),
		PublishedAt: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC),
		CollectedAt: time.Date(2026, 11, 26, 8, 3, 11, 0, time.UTC),
	}
	p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
	p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
	return p
}

func publishPosts(t testing.TB, b *Bus, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		if _, err := b.PublishPost(ctx, testPost(i)); err != nil {
			t.Fatalf("publish post %d: %v", i, err)
		}
	}
}

// eventually polls cond every 10ms until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// consumeInBackground runs Consume until the returned stop is called; stop
// waits for it and fails the test on an error.
func consumeInBackground(t testing.TB, b *Bus, c ConsumerConfig, h Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, c, h) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("consume: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("consume did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

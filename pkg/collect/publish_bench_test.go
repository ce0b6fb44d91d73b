package collect

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// counting is a Publisher that only counts: the benchmark measures the
// collector's own work per poll (seen keys, the window record), not the bus.
type counting struct{ posts, metrics int }

func (c *counting) PublishPost(context.Context, *model.Post) (bool, error) {
	c.posts++
	return false, nil
}
func (c *counting) PublishPostMetrics(context.Context, *model.Post, string) (bool, error) {
	c.metrics++
	return false, nil
}
func (c *counting) PublishSnapshot(context.Context, *model.AccountSnapshot) error { return nil }
func (c *counting) PublishProbe(context.Context, *model.ProbeResult) error        { return nil }

// BenchmarkPublishRepoll is one re-poll of an account whose feed lists 20
// posts, 5 of them inside the window, with unchanged content and counts:
// the steady state of most polls that are not answered 304.
func BenchmarkPublishRepoll(b *testing.B) {
	clock := clockwork.NewFakeClockAt(t0)
	st, err := embedded.Open(filepath.Join(b.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	reg := newRegistry(b, []registry.Unit{{ID: "u", Name: "u"}},
		[]registry.Account{{ID: "a", Name: "a", Platform: "weibo", Unit: "u", Status: registry.StatusActive, Source: registry.Source{Type: "x"}}})
	pub := &counting{}
	c, err := New(Options{Registry: reg, Sources: map[string]source.Source{"x": &scripted{}}, Publisher: pub, State: st, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	a, _ := reg.Account("a")
	var posts []model.Post
	for i := range 20 {
		age := time.Duration(i) * 17 * time.Hour // 5 of 20 inside 72 h
		posts = append(posts, post(clock, fmt.Sprint(4890000+i), age, fmt.Sprintf("第%d条政务信息", i), int64(100+i)))
	}
	batch := &source.Batch{Posts: posts, Complete: true}
	ctx := context.Background()
	if _, err := c.publish(ctx, a, batch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.publish(ctx, a, batch); err != nil {
			b.Fatal(err)
		}
	}
	if pub.posts != 20 || pub.metrics != 0 {
		b.Fatalf("got %d posts and %d metrics updates published, want 20 and 0", pub.posts, pub.metrics)
	}
}

package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Window is how long after publication a post is watched for metric
// changes and for deletion.
const Window = 72 * time.Hour

// MetricsPublisher is implemented by publishers that can publish a post
// under a message id other than its content version's (the bus does): a
// re-polled post whose content is unchanged but whose counts moved. A
// Publisher without it gets no metric updates.
type MetricsPublisher interface {
	PublishPostMetrics(ctx context.Context, p *model.Post, msgID string) (duplicate bool, err error)
}

// MetricsMsgID is the Nats-Msg-Id of a metrics update:
// "<post id>@<content_hash>@m<likes>.<comments>.<shares>.<views>", each
// count replaced by its bucket, so replicas and repeated polls that see the
// same counts publish one message.
func MetricsMsgID(p *model.Post) string {
	m := p.Metrics
	return fmt.Sprintf("%s@%s@m%d.%d.%d.%d", p.ID, p.ContentHash,
		bucket(m.Likes), bucket(m.Comments), bucket(m.Shares), bucket(m.Views))
}

// bucket maps a count to a step about a quarter apart (exact below 8): a
// change worth telling the analyzer about moves a count to another bucket.
func bucket(n int64) int {
	if n < 8 {
		if n < 0 {
			return 0
		}
		return int(n)
	}
	l := bits.Len64(uint64(n))
	return l*4 + int((uint64(n)>>(l-3))&3)
}

// metricsGap is how long after the last metrics update of a post another
// one may follow: often while the post is fresh, less often as it ages.
func metricsGap(age time.Duration) time.Duration {
	switch {
	case age < 6*time.Hour:
		return 0
	case age < 24*time.Hour:
		return time.Hour
	default:
		return 6 * time.Hour
	}
}

// watched is one post inside the window: its last version and when its
// counts were last published. The version is kept without its text (see
// keep): what a re-poll needs is the hash, the counts and enough of the
// post to report it deleted, and the text is most of a post's bytes.
type watched struct {
	Post      model.Post `json:"post"`
	MetricsAt time.Time  `json:"metrics_at,omitzero"`
}

// keep is what the window holds of p: p without its text. The analyzer
// already has the text from the version's own message, and a deletion
// resolves by post id, so a window of an account that posts often costs
// a few hundred bytes per post instead of the whole article.
func keep(p *model.Post) model.Post {
	k := *p
	k.Text = ""
	return k
}

// window is the account's posts inside Window, by post id.
type window map[string]*watched

func windowKey(accountID string) string { return "collector/window/" + accountID }

// publish sends what one poll of a returned: post versions not published
// before, metric updates of recent posts, the posts that vanished from a
// complete feed as deleted, then snapshots and probes. It returns the
// number of post messages published.
func (c *Collector) publish(ctx context.Context, a *registry.Account, b *source.Batch) (published int, err error) {
	now := c.o.Clock.Now().UTC()
	win, raw, err := c.loadWindow(ctx, a.ID)
	if err != nil {
		return 0, err
	}
	present := map[string]bool{}
	var oldest time.Time
	for i := range b.Posts {
		p := &b.Posts[i]
		if p.Kind == model.KindPost || p.Kind == "" {
			present[p.ID] = true
			if oldest.IsZero() || p.PublishedAt.Before(oldest) {
				oldest = p.PublishedAt
			}
		}
		n, err := c.publishPost(ctx, p, win, now)
		published += n
		if err != nil {
			return published, err
		}
	}
	if b.Complete && len(present) > 0 {
		for id, w := range win {
			if present[id] {
				continue
			}
			if w.Post.PublishedAt.Before(oldest) {
				// Pushed out of the feed by newer posts, not deleted:
				// it can no longer be watched.
				delete(win, id)
				continue
			}
			if err := c.publishDeleted(ctx, &w.Post, now); err != nil {
				return published, err
			}
			published++
			delete(win, id)
		}
	}
	for id, w := range win {
		if now.Sub(w.Post.PublishedAt) > Window {
			delete(win, id)
		}
	}
	if err := c.saveWindow(ctx, a.ID, win, raw); err != nil {
		return published, err
	}
	for i := range b.Snapshots {
		if err := c.o.Publisher.PublishSnapshot(ctx, &b.Snapshots[i]); err != nil {
			return published, fmt.Errorf("publish snapshot of %s: %w", a.ID, err)
		}
	}
	for i := range b.Probes {
		if err := c.o.Publisher.PublishProbe(ctx, &b.Probes[i]); err != nil {
			return published, fmt.Errorf("publish probe of %s: %w", a.ID, err)
		}
	}
	return published, nil
}

// publishPost publishes p when its content version is new, or a metrics
// update when only its counts moved, and keeps it in win while it is inside
// the window. It returns the number of messages published (0 or 1).
func (c *Collector) publishPost(ctx context.Context, p *model.Post, win window, now time.Time) (int, error) {
	seenKey := "collector/seen/" + p.ID
	old, err := c.o.State.Get(ctx, seenKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	inWindow := (p.Kind == model.KindPost || p.Kind == "") && now.Sub(p.PublishedAt) <= Window
	w := win[p.ID]
	if string(old) != p.ContentHash {
		if _, err := c.o.Publisher.PublishPost(ctx, p); err != nil {
			return 0, fmt.Errorf("publish %s: %w", p.ID, err)
		}
		if err := c.o.State.Set(ctx, seenKey, []byte(p.ContentHash), SeenTTL); err != nil {
			return 1, err
		}
		c.trackLinks(ctx, p)
		if inWindow {
			win[p.ID] = &watched{Post: keep(p), MetricsAt: now}
		}
		return 1, nil
	}
	if !inWindow {
		return 0, nil
	}
	if w == nil {
		// Seen before the window record existed (or by an older
		// version of the collector): start watching from here.
		win[p.ID] = &watched{Post: keep(p), MetricsAt: now}
		return 0, nil
	}
	mp, ok := c.o.Publisher.(MetricsPublisher)
	if !ok || now.Sub(w.MetricsAt) < metricsGap(now.Sub(p.PublishedAt)) {
		return 0, nil
	}
	msgID := MetricsMsgID(p)
	if msgID == MetricsMsgID(&w.Post) {
		return 0, nil // counts still in the same buckets
	}
	if _, err := mp.PublishPostMetrics(ctx, p, msgID); err != nil {
		return 0, fmt.Errorf("publish metrics of %s: %w", p.ID, err)
	}
	w.Post, w.MetricsAt = keep(p), now
	return 1, nil
}

// trackLinks hands a published version to the link checker. The post is
// out already; a failure only leaves its links unchecked until its next
// version, so it is logged, not returned.
func (c *Collector) trackLinks(ctx context.Context, p *model.Post) {
	if c.o.Links == nil {
		return
	}
	if err := c.o.Links.Track(ctx, p); err != nil {
		c.o.Log.Warn("track links", zap.String("post_id", p.ID), zap.Error(err))
	}
}

// publishDeleted reports the last version of p as deleted and forgets its
// content version, so that a post restored later is published again.
func (c *Collector) publishDeleted(ctx context.Context, last *model.Post, now time.Time) error {
	p := *last
	p.Deleted = true
	p.CollectedAt = now
	if _, err := c.o.Publisher.PublishPost(ctx, &p); err != nil {
		return fmt.Errorf("publish deletion of %s: %w", p.ID, err)
	}
	c.trackLinks(ctx, &p)
	if d, ok := c.o.State.(interface {
		Delete(ctx context.Context, key string) error
	}); ok {
		return d.Delete(ctx, "collector/seen/"+p.ID)
	}
	return c.o.State.Set(ctx, "collector/seen/"+p.ID, []byte("deleted"), SeenTTL)
}

// loadWindow returns the account's window and the bytes it was read from.
func (c *Collector) loadWindow(ctx context.Context, accountID string) (window, []byte, error) {
	win := window{}
	b, err := c.o.State.Get(ctx, windowKey(accountID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return win, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if err := json.Unmarshal(b, &win); err != nil {
		// A record this version cannot read: start watching afresh
		// rather than fail every poll of the account.
		return window{}, nil, nil
	}
	return win, b, nil
}

// saveWindow writes the window unless it is what was read (most polls
// change nothing, and a store write is the costly part of one). The
// record expires a window after its last write, by when every post in it
// has left the window.
func (c *Collector) saveWindow(ctx context.Context, accountID string, win window, was []byte) error {
	b, err := json.Marshal(win)
	if err != nil {
		return err
	}
	if was != nil && bytes.Equal(b, was) {
		return nil
	}
	return c.o.State.Set(ctx, windowKey(accountID), b, Window)
}

// Ingest publishes posts that were pushed rather than polled, through the
// same de-duplication and window as polled ones. The posts must be
// complete and valid (the push endpoint checks them) and belong to active
// accounts. A pushed batch is never a complete feed, so nothing is reported
// deleted from it. It returns the number of post messages published.
func (c *Collector) Ingest(ctx context.Context, posts []model.Post) (published int, err error) {
	byAccount := map[string][]model.Post{}
	var order []string
	for _, p := range posts {
		if _, ok := byAccount[p.AccountID]; !ok {
			order = append(order, p.AccountID)
		}
		byAccount[p.AccountID] = append(byAccount[p.AccountID], p)
	}
	for _, id := range order {
		a, ok := c.o.Registry.Account(id)
		if !ok || !a.Active() {
			return published, fmt.Errorf("ingest: %q is not an active account", id)
		}
		n, err := c.publish(ctx, a, &source.Batch{Posts: byAccount[id]})
		published += n
		c.m.published.WithLabelValues(a.Platform).Add(float64(n))
		if err != nil {
			return published, fmt.Errorf("ingest %s: %w", id, err)
		}
	}
	return published, nil
}

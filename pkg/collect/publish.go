package collect

import (
	"context"
	"errors"
	"fmt"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// publish sends what one poll of a returned: post versions not published
// before, then snapshots and probes. It returns the number of posts published.
func (c *Collector) publish(ctx context.Context, a *registry.Account, b *source.Batch) (published int, err error) {
	for i := range b.Posts {
		p := &b.Posts[i]
		seenKey := "collector/seen/" + p.ID
		old, err := c.o.State.Get(ctx, seenKey)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return published, err
		}
		if string(old) == p.ContentHash {
			continue
		}
		if _, err := c.o.Publisher.PublishPost(ctx, p); err != nil {
			return published, fmt.Errorf("publish %s: %w", p.ID, err)
		}
		if err := c.o.State.Set(ctx, seenKey, []byte(p.ContentHash), SeenTTL); err != nil {
			return published, err
		}
		published++
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

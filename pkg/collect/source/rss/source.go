// Package rss collects an account's posts from its RSS 2.0, Atom or JSON
// Feed (pkg/collect/source/feed reads them).
package rss

import (
	"context"
	"encoding/json"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Source adapts a feed.Fetcher to the collector: the account's url is the
// feed, and the poll state is the cache validators as JSON.
type Source struct {
	Fetcher *feed.Fetcher
}

var _ source.Source = (*Source)(nil)

// Poll fetches the account's url with the validators from state.
func (s *Source) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	var v feed.Validators
	if len(state) > 0 {
		_ = json.Unmarshal(state, &v) // unreadable state: fetch unconditionally
	}
	res, err := s.Fetcher.Fetch(ctx, s.URL(a), v)
	if err != nil {
		return nil, err
	}
	next, err := json.Marshal(res.Validators)
	if err != nil {
		return nil, err
	}
	b := &source.Batch{State: next, NotModified: res.NotModified, Complete: true}
	now := s.Fetcher.Now().UTC()
	for _, it := range res.Items {
		b.Posts = append(b.Posts, it.Post(a, it.NativeID, now))
	}
	b.SortNewestFirst()
	return b, nil
}

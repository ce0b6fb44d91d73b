// Package source declares what a collection method provides. Each method is a
// folder below this one (rss, rsshub, jsonapi, wechat, weibo, probe, push)
// with its code, tests, recorded payloads and a README holding its config
// sample; the collector picks one by the account's source type. What they
// share is below them, owned by none: the HTTP in fetch, feed reading in
// feed, HTML, dates and article links in text.
package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Source collects one account's new items.
//
// Lifecycle: a Source is built once at start and shared by all accounts of
// its type; Poll is called at most once at a time per account, from many
// goroutines for different accounts. state is what the previous successful
// Poll of this account returned in Batch.State (nil the first time): cache
// validators, cursors. The collector keeps it in the store so replicas and
// restarts continue where the last poll left off.
type Source interface {
	Poll(ctx context.Context, a *registry.Account, state []byte) (*Batch, error)
}

// Batch is the result of one poll.
type Batch struct {
	// Posts are complete Posts (id, hash, times filled), newest first
	// (SortNewestFirst): the account's posts, public comments on them and
	// its replies.
	Posts []model.Post
	// Snapshots are the account's profile as the source reports it.
	Snapshots []model.AccountSnapshot
	// Probes are availability checks made during the poll.
	Probes []model.ProbeResult
	// State is handed back to the next Poll.
	State []byte
	// NotModified means the upstream said nothing changed.
	NotModified bool
	// Complete means the posts of kind post are the account's whole feed
	// from the oldest of them up to now, so a recent post missing from it
	// was removed upstream and the collector reports it deleted. A source
	// that returns part of a feed (a page limit hit, pushed posts) leaves
	// it false.
	Complete bool
}

// SortNewestFirst orders Posts as a Batch holds them, newest first, keeping
// the order of posts published at the same time.
func (b *Batch) SortNewestFirst() {
	sort.SliceStable(b.Posts, func(i, j int) bool { return b.Posts[i].PublishedAt.After(b.Posts[j].PublishedAt) })
}

// ErrRetryLater is wrapped by errors that say the upstream is busy
// preparing the answer (RSSHub's "this path is currently fetching"): poll
// again later, without counting a failure against the source.
// It is retryable (it has a Retryable method that says so).
var ErrRetryLater error = retryLater{}

type retryLater struct{}

func (retryLater) Error() string   { return "upstream busy, retry later" }
func (retryLater) Retryable() bool { return true }

// Retryable is implemented by errors that may go away by themselves
// (timeouts, 5xx, 429); others are permanent until someone fixes the source.
type Retryable interface {
	Retryable() bool
}

// ReadSecret reads a source's secret (an app secret, an access token) from
// a file, trailing newline trimmed, or else an environment variable. It is
// read at each use, so a rotated file takes effect without a restart.
func ReadSecret(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	if env != "" {
		if v, ok := os.LookupEnv(env); ok && v != "" {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("secret: environment variable %s is not set", env)
	}
	return nil, errors.New("no secret_file or secret_env")
}

// Locator is implemented by sources whose accounts are read from an
// address, so that messages about an account (system.source_down) can say
// where it is collected from.
type Locator interface {
	URL(a *registry.Account) string
}

// URL is where src collects account a from, "" when it does not say.
func URL(src Source, a *registry.Account) string {
	if l, ok := src.(Locator); ok {
		return l.URL(a)
	}
	return ""
}

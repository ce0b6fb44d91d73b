package feed

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/simulate"
)

// TestSimulatedFeeds collects every account of the demo scenario, including
// its GBK feed and the Atom feed with RSSHub counts.
func TestSimulatedFeeds(t *testing.T) {
	sc, err := simulate.LoadScenario(filepath.Join("..", "..", "..", "..", "configs", "scenarios", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sim := simulate.New(sc, clockwork.NewFakeClockAt(now))
	ts := httptest.NewServer(sim.Handler())
	defer ts.Close()
	for _, a := range sc.Accounts {
		t.Run(a.ID, func(t *testing.T) {
			f := fetcher()
			res, err := f.Fetch(context.Background(), ts.URL+sim.FeedPath(a.ID), Validators{})
			if err != nil {
				t.Fatal(err)
			}
			want := sim.Posts(a.ID)
			if res.FeedTitle != a.Title || len(res.Items) != len(want) {
				t.Fatalf("got title %q and %d items, want %q and %d", res.FeedTitle, len(res.Items), a.Title, len(want))
			}
			for i, got := range res.Items {
				w := want[i]
				if got.NativeID != w.ID || !got.PublishedAt.Equal(w.Published) || got.Title != w.Title {
					t.Errorf("item %d: got %s %v %q, want %s %v %q", i, got.NativeID, got.PublishedAt, got.Title, w.ID, w.Published, w.Title)
				}
				if a.Format == simulate.FormatAtom && (got.Metrics.Likes != w.Upvotes || got.Metrics.Comments != w.Comments) {
					t.Errorf("item %d: got metrics %+v, want likes %d comments %d", i, got.Metrics, w.Upvotes, w.Comments)
				}
			}
			again, err := f.Fetch(context.Background(), ts.URL+sim.FeedPath(a.ID), res.Validators)
			if err != nil || !again.NotModified {
				t.Errorf("got not-modified %v (%v) on a re-poll, want true", again != nil && again.NotModified, err)
			}
		})
	}
}

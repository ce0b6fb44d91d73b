package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// scripted is a source whose next answer the test sets.
type scripted struct {
	mu    sync.Mutex
	batch source.Batch
}

func (s *scripted) set(complete bool, posts ...model.Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch = source.Batch{Posts: posts, Complete: complete}
}

func (s *scripted) Poll(context.Context, *registry.Account, []byte) (*source.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.batch
	b.Posts = append([]model.Post(nil), s.batch.Posts...)
	return &b, nil
}

// busRig is a collector over a scripted source publishing to a real
// embedded JetStream, with a real embedded store, in virtual time.
type busRig struct {
	clock *clockwork.FakeClock
	src   *scripted
	bus   *bus.Bus
	c     *Collector
	seen  uint64 // stream sequence read so far
}

func newBusRig(t *testing.T) *busRig {
	t.Helper()
	r := &busRig{clock: clockwork.NewFakeClockAt(t0), src: &scripted{}}
	r.bus = bustest.Open(t, bus.Options{})
	reg := newRegistry(t, []registry.Unit{{ID: "fj-gov", Name: "福建省人民政府办公厅"}},
		[]registry.Account{{ID: "fj-gov-weibo", Name: "中国福建", Platform: "weibo", Unit: "fj-gov", Status: registry.StatusActive,
			Source: registry.Source{Type: "scripted"}}})
	var err error
	r.c, err = New(Options{Registry: reg, Sources: map[string]source.Source{"scripted": r.src}, Publisher: r.bus, State: openState(t),
		Clock: r.clock, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// msg is one post message read back from the stream.
type msg struct {
	id   string
	post model.Post
}

// poll polls the account and returns the messages the stream stored.
func (r *busRig) poll(t *testing.T) []msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.c.Poll(ctx, "fj-gov-weibo"); err != nil {
		t.Fatal(err)
	}
	return r.read(t)
}

func (r *busRig) read(t *testing.T) []msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := r.bus.JetStream().Stream(ctx, r.bus.Stream(bus.KindPost))
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []msg
	for ; r.seen < info.State.LastSeq; r.seen++ {
		m, err := st.GetMsg(ctx, r.seen+1)
		if err == jetstream.ErrMsgNotFound {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var p model.Post
		if err := json.Unmarshal(m.Data, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, msg{id: m.Header.Get("Nats-Msg-Id"), post: p})
	}
	return out
}

func ids(ms []msg) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.id)
	}
	return out
}

// post builds a weibo post published age before now.
func post(clock clockwork.Clock, native string, age time.Duration, text string, likes int64) model.Post {
	p := model.Post{Schema: 1, AccountID: "fj-gov-weibo", Platform: "weibo", NativeID: native, Kind: model.KindPost,
		URL: "https://weibo.com/3197355467/" + native, Text: text, Author: "中国福建",
		PublishedAt: clock.Now().Add(-age).UTC(), CollectedAt: clock.Now().UTC(), Metrics: model.Metrics{Likes: likes}}
	p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
	p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
	return p
}

func TestRepollMetricsEditsAndDeletion(t *testing.T) {
	r := newBusRig(t)
	// Posts keep their publication time; the clock moves.
	base := r.clock.Now()
	mk := func(native string, ageAtStart time.Duration, text string, likes int64) model.Post {
		p := post(r.clock, native, r.clock.Now().Sub(base)+ageAtStart, text, likes)
		return p
	}
	hash := func(p model.Post) string { return p.ContentHash }
	a := func(text string, likes int64) model.Post { return mk("A", time.Hour, text, likes) }
	b := func(likes int64) model.Post { return mk("B", 2*time.Hour, "台风预警", likes) }
	c := func(likes int64) model.Post { return mk("C", 100*time.Hour, "旧闻", likes) }
	idOf := func(n string) string { return "weibo/fj-gov-weibo/" + n }

	steps := []struct {
		name    string
		advance time.Duration
		posts   []model.Post
		partial bool
		want    []string // msg ids stored, in order
	}{
		{"first poll publishes every version", 0,
			[]model.Post{a("地铁开通", 10), b(5), c(1)},
			false, []string{idOf("A") + "@" + hash(a("地铁开通", 0)), idOf("B") + "@" + hash(b(0)), idOf("C") + "@" + hash(c(0))}},
		{"a count that moves to another bucket is a metrics update", 10 * time.Minute,
			[]model.Post{a("地铁开通", 100), b(5), c(900)},
			false, []string{idOf("A") + "@" + hash(a("地铁开通", 0)) + "@m30.0.0.0"}},
		{"a count inside its bucket is not (A), a small count is exact (B)", 10 * time.Minute,
			[]model.Post{a("地铁开通", 105), b(6), c(900)},
			false, []string{idOf("B") + "@" + hash(b(0)) + "@m6.0.0.0"}},
		{"a post older than the window is not re-published for its counts", 10 * time.Minute,
			[]model.Post{a("地铁开通", 105), b(6), c(5000)},
			false, nil},
		{"an edit publishes a new version", 10 * time.Minute,
			[]model.Post{a("地铁二期开通", 105), b(6), c(5000)},
			false, []string{idOf("A") + "@" + hash(a("地铁二期开通", 0))}},
		{"a partial batch reports nothing deleted", 10 * time.Minute,
			[]model.Post{a("地铁二期开通", 105), c(5000)},
			true, nil},
		{"a post missing from a complete feed inside its range is deleted", 10 * time.Minute,
			[]model.Post{a("地铁二期开通", 105), c(5000)},
			false, []string{idOf("B") + "@deleted"}},
		{"a deleted post is reported once", 10 * time.Minute,
			[]model.Post{a("地铁二期开通", 105), c(5000)},
			false, nil},
		{"a post pushed out of the feed's range is not deleted", 10 * time.Minute,
			[]model.Post{mk("D", -time.Minute, "新消息", 0)},
			false, []string{idOf("D") + "@" + hash(mk("D", 0, "新消息", 0))}},
	}
	for _, s := range steps {
		r.clock.Advance(s.advance)
		r.src.set(!s.partial, s.posts...)
		got := r.poll(t)
		if strings.Join(ids(got), "\n") != strings.Join(s.want, "\n") {
			t.Fatalf("%s: got messages\n%s\nwant\n%s", s.name, strings.Join(ids(got), "\n"), strings.Join(s.want, "\n"))
		}
		for _, m := range got {
			if strings.HasSuffix(m.id, "@deleted") != m.post.Deleted {
				t.Errorf("%s: got %s with deleted=%v", s.name, m.id, m.post.Deleted)
			}
			// A deletion repeats the last version but its text, which
			// the window does not keep, and says when it was found gone.
			if m.post.Deleted && (m.post.Text != "" || m.post.URL == "" || m.post.ContentHash == "" || !m.post.CollectedAt.Equal(r.clock.Now())) {
				t.Errorf("%s: got deleted post text %q, url %q, hash %q, collected %v; want no text, the last url and hash, and now",
					s.name, m.post.Text, m.post.URL, m.post.ContentHash, m.post.CollectedAt)
			}
			if strings.Contains(m.id, "@m") && m.post.Metrics.Likes == 0 {
				t.Errorf("%s: got a metrics update without counts", s.name)
			}
		}
	}
}

func TestMetricsUpdatesSlowDownWithAge(t *testing.T) {
	r := newBusRig(t)
	base := r.clock.Now()
	old := func(likes int64) model.Post {
		return post(r.clock, "E", r.clock.Now().Sub(base)+30*time.Hour, "旧帖", likes)
	}
	r.src.set(true, old(10))
	if got := r.poll(t); len(got) != 1 {
		t.Fatalf("got %d messages, want the first version", len(got))
	}
	steps := []struct {
		advance time.Duration
		likes   int64
		want    int
	}{
		{10 * time.Minute, 100, 0}, // a day old: at most one update per 6 h since the first version
		{6 * time.Hour, 100, 1},
		{time.Hour, 1000, 0},
		{5 * time.Hour, 1000, 1},
	}
	for i, s := range steps {
		r.clock.Advance(s.advance)
		r.src.set(true, old(s.likes))
		if got := r.poll(t); len(got) != s.want {
			t.Errorf("step %d (+%s, %d likes): got %d messages %v, want %d", i, s.advance, s.likes, len(got), ids(got), s.want)
		}
	}
}

func TestIngestDeduplicates(t *testing.T) {
	r := newBusRig(t)
	p := post(r.clock, "F", time.Minute, "推送的帖子", 1)
	for i := range 2 {
		n, err := r.c.Ingest(context.Background(), []model.Post{p})
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 - i; n != want {
			t.Errorf("ingest %d: got %d published, want %d", i, n, want)
		}
	}
	if got := r.read(t); len(got) != 1 || got[0].id != p.MsgID() {
		t.Errorf("got %v, want one message %s", ids(got), p.MsgID())
	}
	q := p
	q.AccountID = "nobody"
	if _, err := r.c.Ingest(context.Background(), []model.Post{q}); err == nil || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("got %v, want an error naming the unknown account", err)
	}
}

func TestBucket(t *testing.T) {
	prev := -1
	for n := int64(0); n < 1<<20; n = n*9/8 + 1 {
		b := bucket(n)
		if b < prev {
			t.Fatalf("bucket(%d) = %d after %d: not monotone", n, b, prev)
		}
		prev = b
	}
	tests := []struct{ a, b int64 }{{100, 105}, {1030, 1100}}
	for _, tt := range tests {
		if bucket(tt.a) != bucket(tt.b) {
			t.Errorf("got buckets %d, %d for %d and %d; want one", bucket(tt.a), bucket(tt.b), tt.a, tt.b)
		}
	}
	if bucket(100) == bucket(200) {
		t.Errorf("got one bucket %d for 100 and 200, want two", bucket(100))
	}
}

func TestSnapshotsAndProbesPublished(t *testing.T) {
	r := newBusRig(t)
	now := r.clock.Now().UTC()
	r.src.mu.Lock()
	r.src.batch = source.Batch{
		Snapshots: []model.AccountSnapshot{{Schema: 1, AccountID: "fj-gov-weibo", Platform: "weibo", Name: "中国福建", Followers: 6128453, TakenAt: now}},
		Probes:    []model.ProbeResult{{Schema: 1, AccountID: "fj-gov-weibo", Platform: "weibo", Target: "https://weibo.com/fjfb", OK: true, StatusCode: 200, CheckedAt: now}},
	}
	r.src.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.c.Poll(ctx, "fj-gov-weibo"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []bus.Kind{bus.KindSnapshot, bus.KindProbe} {
		st, err := r.bus.JetStream().Stream(ctx, r.bus.Stream(k))
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Errorf("stream %s: got %d messages, want 1", r.bus.Stream(k), info.State.Msgs)
		}
	}
}

// TestWindowKeepsNoText holds the window record's size to the post's
// header: an account that publishes long articles costs no more to watch
// than one that publishes a line each.
func TestWindowKeepsNoText(t *testing.T) {
	r := newBusRig(t)
	article := strings.Repeat("全省各级政务新媒体要坚持正确政治方向，", 400) // about 23 KB
	var posts []model.Post
	for i := range 20 {
		posts = append(posts, post(r.clock, fmt.Sprint(5100000+i), time.Duration(i)*time.Hour, fmt.Sprintf("%s%d", article, i), 10))
	}
	r.src.set(true, posts...)
	if got := r.poll(t); len(got) != 20 {
		t.Fatalf("got %d messages, want the 20 posts", len(got))
	}
	raw, err := r.c.o.State.Get(t.Context(), windowKey("fj-gov-weibo"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "全省各级") {
		t.Fatalf("the window record holds post text")
	}
	// What is left per post is ids, the URL, the hash, counts and times.
	if perPost := len(raw) / 20; perPost > 1024 {
		t.Fatalf("the window holds %d bytes per post, want at most 1 KiB", perPost)
	}
	t.Logf("window: %d bytes for 20 posts of %d bytes of text each", len(raw), len(posts[0].Text))
}

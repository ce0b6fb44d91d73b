package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

var now = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC) // 09:30 in Beijing

// ingested records what the handler hands on. fail, when set, makes the
// next Ingest publish nothing and return it; after, when set, runs once
// the posts are published.
type ingested struct {
	mu    sync.Mutex
	posts []model.Post
	fail  error
	after func()
}

func (g *ingested) Ingest(_ context.Context, posts []model.Post) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.fail; err != nil {
		g.fail = nil
		return 0, err
	}
	g.posts = append(g.posts, posts...)
	if g.after != nil {
		g.after()
	}
	return len(posts), nil
}

func (g *ingested) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.posts)
}

func testRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	reg, probs := registry.New([]registry.Unit{{ID: "fj-gov", Name: "福建省人民政府办公厅"}}, []registry.Account{
		{ID: "fj-gov-douyin", Name: "福建发布", Platform: "douyin", Unit: "fj-gov", Status: registry.StatusActive, Source: registry.Source{Type: "push"}},
		{ID: "xm-closed", Name: "旧账号", Platform: "weibo", Unit: "fj-gov", Status: registry.StatusClosed, Source: registry.Source{Type: "push"}},
		{ID: "fz-kuaishou", Name: "福州发布", Platform: "kuaishou", Unit: "fj-gov", Status: registry.StatusActive, Source: registry.Source{Type: "push"}},
	})
	if probs != nil {
		t.Fatal(probs)
	}
	return reg
}

type rig struct {
	clock  *clockwork.FakeClock
	got    *ingested
	h      *Handler
	cancel context.CancelFunc // of the request under way: its client goes away
}

func newRig(t *testing.T, rate int) *rig {
	t.Helper()
	clock := clockwork.NewFakeClockAt(now)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{clock: clock, got: &ingested{}}
	r.h, err = New(Options{
		Keys: []Key{
			{ID: "crawler-1", Secret: []byte("s3cret-one")},
			{ID: "crawler-kuaishou", Secret: []byte("s3cret-two"), Accounts: []string{"fz-kuaishou"}},
		},
		Registry: testRegistry(t), Ingester: r.got, Store: st, RatePerMinute: rate, MaxBody: 64 << 10, MaxPosts: 10, Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type req struct {
	method    string
	key       string
	secret    string
	timestamp string // "" = now
	sig       string // "" = computed
	body      []byte
}

func (r *rig) do(t *testing.T, q req) (int, answer) {
	t.Helper()
	if q.method == "" {
		q.method = http.MethodPost
	}
	if q.key == "" {
		q.key = "crawler-1"
	}
	if q.secret == "" {
		q.secret = "s3cret-one"
	}
	if q.timestamp == "" {
		q.timestamp = strconv.FormatInt(r.clock.Now().Unix(), 10)
	}
	if q.sig == "" {
		q.sig = Sign([]byte(q.secret), q.timestamp, q.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.cancel = cancel
	hr := httptest.NewRequestWithContext(ctx, q.method, Path, bytes.NewReader(q.body))
	hr.Header.Set(HeaderKey, q.key)
	hr.Header.Set(HeaderTimestamp, q.timestamp)
	hr.Header.Set(HeaderSignature, q.sig)
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, hr)
	var a answer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("got a non-JSON answer %q: %v", w.Body.String(), err)
	}
	return w.Code, a
}

func batch(t testing.TB) []byte {
	t.Helper()
	return sourcetest.Testdata(t, "crawler-batch.json")
}

func TestIngestAccepts(t *testing.T) {
	r := newRig(t, 60)
	code, a := r.do(t, req{body: batch(t)})
	if code != http.StatusOK || a.Accepted != 3 || a.Published != 3 || a.Error != "" {
		t.Fatalf("got %d %+v, want 200 with 3 accepted and published", code, a)
	}
	got := r.got.posts
	want := []struct{ id, kind, parent string }{
		{"douyin/fj-gov-douyin/7439201837465019392", "post", ""},
		{"douyin/fj-gov-douyin/7439201837465019392/c/7439300011122233344", "comment", "douyin/fj-gov-douyin/7439201837465019392"},
		{"douyin/fj-gov-douyin/7439201837465019392/c/7439300011122233344/r/7439310000000000001", "reply", "douyin/fj-gov-douyin/7439201837465019392/c/7439300011122233344"},
	}
	for i, w := range want {
		p := got[i]
		if p.ID != w.id || p.Kind != w.kind || p.ParentID != w.parent {
			t.Errorf("post %d: got %s %s parent %q, want %s %s parent %q", i, p.ID, p.Kind, p.ParentID, w.id, w.kind, w.parent)
		}
		if p.ContentHash != model.ContentHash(p.Title, p.Text, p.URL) || !p.CollectedAt.Equal(now) || p.Schema != 1 {
			t.Errorf("post %d: got hash %s collected %v schema %d, want computed, now, 1", i, p.ContentHash, p.CollectedAt, p.Schema)
		}
	}
	if want := time.Date(2026, 11, 27, 0, 40, 0, 0, time.UTC); !got[0].PublishedAt.Equal(want) || got[0].PublishedAt.Location() != time.UTC {
		t.Errorf("got published %v, want %v in UTC", got[0].PublishedAt, want)
	}
	if got[0].Metrics != (model.Metrics{Likes: 3120, Comments: 214, Shares: 88}) {
		t.Errorf("got metrics %+v", got[0].Metrics)
	}
}

func TestIngestRejects(t *testing.T) {
	good := batch(t)
	one := func(fields string) []byte {
		return []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"` + fields + `}]`)
	}
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	tests := []struct {
		name      string
		q         req
		status    int
		wantError string
		wantProb  *Problem
	}{
		{"GET", req{method: http.MethodGet, body: good}, 405, "method GET not allowed", nil},
		{"unknown key", req{key: "intruder", body: good}, 401, `unknown key "intruder"`, nil},
		{"bad signature", req{secret: "guessed", body: good}, 401, "bad X-Govwatch-Signature", nil},
		{"signature of another body", req{sig: Sign([]byte("s3cret-one"), strconv.FormatInt(now.Unix(), 10), []byte("[]")), body: good}, 401, "bad X-Govwatch-Signature", nil},
		{"missing signature", req{sig: "sha256=", body: good}, 401, "bad X-Govwatch-Signature", nil},
		{"stale timestamp", req{timestamp: old, body: good}, 401, "away from the server's time", nil},
		{"future timestamp", req{timestamp: strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), body: good}, 401, "away from the server's time", nil},
		{"timestamp not a number", req{timestamp: "yesterday", body: good}, 401, "must be unix seconds", nil},
		{"oversized body", req{body: bytes.Repeat([]byte(" "), 65<<10)}, 413, "over the limit of 65536", nil},
		{"not JSON", req{body: []byte(`[{"account_id": "fj-gov-douyin",`)}, 400, "not a JSON array of posts", nil},
		{"an object, not an array", req{body: []byte(`{"account_id":"fj-gov-douyin"}`)}, 400, "must be []json.RawMessage", nil},
		{"empty array", req{body: []byte(`[]`)}, 400, "empty array", nil},
		{"too many posts", req{body: []byte(`[{},{},{},{},{},{},{},{},{},{},{}]`)}, 400, "11 posts in one request, over the limit of 10", nil},
		{"unknown account", req{body: []byte(`[{"account_id":"nobody","platform":"douyin","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"}]`)}, 422, "", &Problem{0, "account_id", `unknown account "nobody"`}},
		{"closed account", req{body: []byte(`[{"account_id":"xm-closed","platform":"weibo","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"}]`)}, 422, "", &Problem{0, "account_id", "is closed"}},
		{"account the key may not push for", req{key: "crawler-kuaishou", secret: "s3cret-two", body: one("")}, 403, "", &Problem{0, "account_id", "may not push"}},
		{"platform mismatch", req{body: []byte(`[{"account_id":"fj-gov-douyin","platform":"weibo","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"}]`)}, 422, "", &Problem{0, "platform", `does not match the registry's "douyin"`}},
		{"unknown kind", req{body: one(`,"kind":"retweet"`)}, 422, "", &Problem{0, "kind", `unknown kind "retweet"`}},
		{"comment without parent", req{body: one(`,"kind":"comment"`)}, 422, "", &Problem{0, "parent_id", "needs the id"}},
		{"future post", req{body: one(`,"published_at":"2026-11-28T09:00:00+08:00"`)}, 400, "", nil},
		{"bad time", req{body: []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"x","published_at":"27/11/2026"}]`)}, 422, "", &Problem{0, "published_at", "not an RFC 3339 time"}},
		{"wrong type", req{body: []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":1}]`)}, 422, "", &Problem{0, "native_id", "must be string"}},
		{"unknown field", req{body: one(`,"likes":5`)}, 422, "", &Problem{0, "likes", "unknown field"}},
		{"negative count", req{body: one(`,"metrics":{"likes":-1}`)}, 422, "", &Problem{0, "metrics", "negative"}},
		{"link that is not a web address", req{body: one(`,"links":[{"url":"https://ok.example/a"},{"url":"javascript:alert(1)"}]`)}, 422, "", &Problem{0, "links[1].url", "not an absolute http or https URL"}},
		{"second post bad, first good: nothing accepted", req{body: []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"},{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"2","published_at":"2026-11-27T09:00:00+08:00"}]`)}, 422, "", &Problem{1, "text", "needs a title, a text or a url"}},
		{"duplicate in one request", req{body: []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"},{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"y","published_at":"2026-11-27T09:00:00+08:00"}]`)}, 422, "", &Problem{1, "native_id", "the same post as index 0"}},
		{"not UTF-8", req{body: []byte("[{\"account_id\":\"fj-gov-douyin\",\"platform\":\"douyin\",\"native_id\":\"1\",\"text\":\"\xb8\xa3\xbd\xa8\",\"published_at\":\"2026-11-27T09:00:00+08:00\"}]")}, 422, "", &Problem{0, "text", "not valid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, 60)
			code, a := r.do(t, tt.q)
			if tt.name == "future post" {
				// A crawler's clock running a day ahead is a field problem.
				tt.status, tt.wantProb = 422, &Problem{0, "published_at", "in the future"}
			}
			if code != tt.status {
				t.Errorf("got status %d (%+v), want %d", code, a, tt.status)
			}
			if !strings.Contains(a.Error, tt.wantError) || a.Error == "" {
				t.Errorf("got error %q, want one containing %q", a.Error, tt.wantError)
			}
			if tt.wantProb != nil {
				found := false
				for _, p := range a.Problems {
					if p.Index == tt.wantProb.Index && p.Field == tt.wantProb.Field && strings.Contains(p.Message, tt.wantProb.Message) {
						found = true
					}
				}
				if !found {
					t.Errorf("got problems %+v, want one at index %d field %s saying %q", a.Problems, tt.wantProb.Index, tt.wantProb.Field, tt.wantProb.Message)
				}
			}
			if n := r.got.count(); n != 0 {
				t.Errorf("got %d posts ingested, want none", n)
			}
		})
	}
}

// TestIngestKeepsLinks: a pushed post's links reach the bus, and its
// content hash covers them, so an edit that only drops a link is a change.
func TestIngestKeepsLinks(t *testing.T) {
	r := newRig(t, 2)
	body := []byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00",` +
		`"links":[{"url":"https://www.example.gov.cn/a","text":"通知","hidden":true}]}]`)
	if code, a := r.do(t, req{body: body}); code != 200 {
		t.Fatalf("got %d %+v", code, a)
	}
	p := r.got.posts[0]
	if len(p.Links) != 1 || p.Links[0] != (model.Link{URL: "https://www.example.gov.cn/a", Text: "通知", Hidden: true}) {
		t.Errorf("links = %+v", p.Links)
	}
	if p.ContentHash == model.ContentHash(p.Title, p.Text, p.URL) {
		t.Error("the content hash ignores the links")
	}
}

func TestIngestReplayAndRate(t *testing.T) {
	r := newRig(t, 2)
	body := batch(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != 200 {
		t.Fatalf("got %d %+v, want 200", code, a)
	}
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != http.StatusConflict || !strings.Contains(a.Error, "replay") {
		t.Errorf("got %d %+v on a replay, want 409 naming the replay", code, a)
	}
	r.clock.Advance(time.Second)
	if code, a := r.do(t, req{body: body}); code != 200 {
		t.Errorf("got %d %+v for a second fresh request, want 200", code, a)
	}
	r.clock.Advance(time.Second)
	code, a := r.do(t, req{body: body})
	if code != http.StatusTooManyRequests || !strings.Contains(a.Error, "2 requests per minute") {
		t.Errorf("got %d %+v for the third request in a minute, want 429", code, a)
	}
	if n := r.got.count(); n != 6 {
		t.Errorf("got %d posts ingested, want 6 (two requests)", n)
	}
	// Another key has its own budget; the next minute a fresh one.
	if code, a := r.do(t, req{key: "crawler-kuaishou", secret: "s3cret-two", body: []byte(`[{"account_id":"fz-kuaishou","platform":"kuaishou","native_id":"1","text":"x","published_at":"2026-11-27T09:00:00+08:00"}]`)}); code != 200 {
		t.Errorf("got %d %+v for another key, want 200", code, a)
	}
	r.clock.Advance(time.Minute)
	if code, a := r.do(t, req{body: body}); code != 200 {
		t.Errorf("got %d %+v in the next minute, want 200", code, a)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(batch(f))
	f.Add([]byte(`[{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"1","kind":"reply","parent_id":"x","text":"x","published_at":"2026-11-27T09:00:00+08:00"}]`))
	f.Add([]byte(`[null, 1, "x", {}]`))
	f.Add([]byte(`{"a":1}`))
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		posts, probs, err := Parse(body, reg, nil, now, 50)
		if err != nil {
			if len(posts) != 0 || len(probs) != 0 {
				t.Fatalf("got posts or problems with an error")
			}
			return
		}
		for _, p := range probs {
			if p.Message == "" {
				t.Errorf("got a problem without a message: %+v", p)
			}
		}
		for _, p := range posts {
			a, ok := reg.Account(p.AccountID)
			if !ok || !a.Active() || a.Platform != p.Platform {
				t.Errorf("got post %s of an unknown, inactive or mismatched account", p.ID)
			}
			if p.ID != model.PostID(p.Platform, p.AccountID, p.NativeID) || p.ContentHash == "" || p.PublishedAt.After(now.Add(5*time.Minute)) {
				t.Errorf("got an incomplete or future post %+v", p)
			}
			if p.Kind != model.KindPost && p.ParentID == "" {
				t.Errorf("got a %s without parent", p.Kind)
			}
		}
	})
}

func TestSampleConfig(t *testing.T) {
	var cfg map[string]any
	sourcetest.Sample(t, &cfg)
}

// BenchmarkParse checks a full request of 500 posts.
func BenchmarkParse(b *testing.B) {
	reg := testRegistry(b)
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range 500 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"account_id":"fj-gov-douyin","platform":"douyin","native_id":"74392018374650` + strconv.Itoa(10000+i) + `","kind":"post","url":"https://www.douyin.com/video/1","text":"` + strings.Repeat("台风过境后，福州街头清障进行中。", 10) + `","author":"福建发布","published_at":"2026-11-27T08:40:00+08:00","metrics":{"likes":3120,"comments":214,"shares":88,"views":0}}`)
	}
	buf.WriteByte(']')
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for range b.N {
		posts, probs, err := Parse(body, reg, nil, now, 500)
		if err != nil || len(probs) != 0 || len(posts) != 500 {
			b.Fatalf("got %d posts, %v, %v", len(posts), probs, err)
		}
	}
}

// TestReplayMarkerAfterPublish: a request that was not published may be
// sent again, one that was is a replay, even when its client went away
// before the answer.
func TestReplayMarkerAfterPublish(t *testing.T) {
	r := newRig(t, 60)
	body := batch(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	r.got.fail = errors.New("nats: no responders available for request")
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != http.StatusServiceUnavailable || a.Published != 0 {
		t.Fatalf("publishing failed: got %d %+v, want 503 with nothing published", code, a)
	}
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != http.StatusOK || a.Published != 3 {
		t.Fatalf("the unpublished request sent again: got %d %+v, want 200 with 3 published", code, a)
	}
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != http.StatusConflict || !strings.Contains(a.Error, "replay") {
		t.Errorf("the published request sent again: got %d %+v, want 409", code, a)
	}

	// The client times out while the posts are being published.
	r.clock.Advance(time.Second)
	ts = strconv.FormatInt(r.clock.Now().Unix(), 10)
	r.got.after = func() { r.cancel() }
	r.do(t, req{timestamp: ts, body: body})
	r.got.after = nil
	if code, a := r.do(t, req{timestamp: ts, body: body}); code != http.StatusConflict {
		t.Errorf("resent after the client timed out on a published request: got %d %+v, want 409", code, a)
	}
	if n := r.got.count(); n != 6 {
		t.Errorf("got %d posts ingested, want 6 (two published requests)", n)
	}
}

// TestIngestBodyCutOff: a body the server's read timeout cut off is
// answered 408, not 413 as if it were too large, and a body that broke off
// otherwise 400; neither is published.
func TestIngestBodyCutOff(t *testing.T) {
	r := newRig(t, 60)
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, 408, "read timeout"},
		{io.ErrUnexpectedEOF, 400, "read body: unexpected EOF"},
	} {
		hr := httptest.NewRequest(http.MethodPost, Path, io.MultiReader(strings.NewReader(`[{"account_id": "fj-gov-douyin",`), iotest.ErrReader(tc.err)))
		hr.Header.Set(HeaderKey, "crawler-1")
		w := httptest.NewRecorder()
		r.h.ServeHTTP(w, hr)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("a body broken off by %v: %d %s, want %d saying %q", tc.err, w.Code, w.Body, tc.status, tc.want)
		}
	}
	if n := r.got.count(); n != 0 {
		t.Errorf("%d posts published", n)
	}
}

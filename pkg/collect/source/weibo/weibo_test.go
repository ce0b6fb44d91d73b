package weibo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

var now = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// api serves the open API's recorded answers to the right token; errors
// answer with the API's error shape and status.
func api(t *testing.T, errStatus int, errBody string) *httptest.Server {
	t.Helper()
	files := map[string]string{
		"/2/users/show.json":             "users_show.json",
		"/2/statuses/user_timeline.json": "user_timeline.json",
		"/2/comments/show.json":          "comments_show.json",
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "OAuth2 2.00tok3n" || r.URL.Query().Has("access_token") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"invalid_access_token","error_code":21332,"request":"` + r.URL.Path + `"}`))
			return
		}
		if errBody != "" && r.URL.Path == "/2/statuses/user_timeline.json" {
			w.WriteHeader(errStatus)
			_, _ = w.Write([]byte(errBody))
			return
		}
		if r.URL.Path == "/2/comments/show.json" && r.URL.Query().Get("id") != "5109872234456789" {
			t.Errorf("got comments asked for %q, want only the commented recent post", r.URL.Query().Get("id"))
		}
		b, err := os.ReadFile(filepath.Join("testdata", files[r.URL.Path]))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(b)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func account(t *testing.T, token string) *registry.Account {
	return &registry.Account{ID: "fj-gov-weibo", Platform: "weibo", Source: registry.Source{Type: "weibo",
		Options: &Account{UserID: "3197355467", SecretFile: sourcetest.SecretFile(t, token)}}}
}

func TestPoll(t *testing.T) {
	ts := api(t, 0, "")
	s := &Source{BaseURL: ts.URL, Clock: clockwork.NewFakeClockAt(now), Comments: true}
	b, err := s.Poll(context.Background(), account(t, "2.00tok3n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Snapshots) != 1 {
		t.Fatalf("got %d snapshots, want 1", len(b.Snapshots))
	}
	snap := b.Snapshots[0]
	if snap.Name != "中国福建" || snap.Followers != 6128453 || snap.Following != 812 || snap.Posts != 48211 ||
		snap.Bio != "福建省人民政府新闻办公室官方微博" || !strings.HasPrefix(snap.AvatarHash, "sha256:") || !snap.TakenAt.Equal(now) {
		t.Errorf("got snapshot %+v", snap)
	}
	if got, want := snap.AvatarHash, hash("be94e8cbly8h1a2b3c4d5j205005074.jpg"); got != want {
		t.Errorf("got avatar hash %s, want the hash of the picture's file name %s", got, want)
	}
	type row struct{ id, kind, parent, author string }
	var got []row
	for _, p := range b.Posts {
		got = append(got, row{p.ID, p.Kind, p.ParentID, p.Author})
	}
	post := "weibo/fj-gov-weibo/5109872234456789"
	want := []row{
		{post + "/c/5109880000000001", "reply", post + "/c/5109875555555555", "中国福建"},
		{post + "/c/5109875555555555", "comment", post, "福州市民小林"},
		{post, "post", "", "中国福建"},
		{"weibo/fj-gov-weibo/5109731122334455", "post", "", "中国福建"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("post %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	p := b.Posts[2]
	if p.Metrics != (model.Metrics{Likes: 1264, Comments: 2, Shares: 45}) || !p.PublishedAt.Equal(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)) ||
		p.URL != "https://weibo.com/3197355467/5109872234456789" || p.ContentHash != model.ContentHash("", p.Text, p.URL) {
		t.Errorf("got %+v", p)
	}
	if !b.Complete {
		t.Error("got an incomplete batch, want complete")
	}
}

func TestPollWithoutComments(t *testing.T) {
	ts := api(t, 0, "")
	s := &Source{BaseURL: ts.URL, Clock: clockwork.NewFakeClockAt(now)}
	b, err := s.Poll(context.Background(), account(t, "2.00tok3n"), nil)
	if err != nil || len(b.Posts) != 2 {
		t.Fatalf("got %v and %d posts, want 2 posts and no comments", err, len(b.Posts))
	}
}

func TestPollErrors(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		status    int
		body      string
		wantErr   string
		retryable bool
	}{
		{"expired token", "2.00tok3n", 400, `{"error":"expired_token","error_code":21327,"request":"/2/statuses/user_timeline.json"}`, "error_code 21327: expired_token", false},
		{"wrong token", "2.00wrong", 0, "", "error_code 21332", false},
		{"rate limited", "2.00tok3n", 403, `{"error":"User requests out of rate limit!","error_code":10023,"request":"/2/statuses/user_timeline.json"}`, "error_code 10023", true},
		{"error with 200", "2.00tok3n", 200, `{"error":"system error!","error_code":10001,"request":"/2/statuses/user_timeline.json"}`, "error_code 10001", true},
		{"bad gateway page", "2.00tok3n", 502, `<html>502 Bad Gateway</html>`, "status 502", true},
		{"bad JSON", "2.00tok3n", 200, `{"statuses":[{"idstr":`, "parse ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := api(t, tt.status, tt.body)
			s := &Source{BaseURL: ts.URL, Clock: clockwork.NewFakeClockAt(now)}
			_, err := s.Poll(context.Background(), account(t, tt.token), nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fj-gov-weibo") {
				t.Fatalf("got %v, want an error naming the account and %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("got the token in the error: %v", err)
			}
			if got := fetch.IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v", got, tt.retryable)
			}
		})
	}
}

func TestSampleConfig(t *testing.T) {
	var cfg map[string]any
	sourcetest.Sample(t, &cfg)
}

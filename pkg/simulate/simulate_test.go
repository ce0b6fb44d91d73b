package simulate

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/mmcdole/gofeed"

	"github.com/govwatch/govwatch/pkg/calendar"
)

// start is 10:00 Beijing time.
var start = time.Date(2026, 8, 3, 2, 0, 0, 0, time.UTC)

func loadDemo(t *testing.T) *Scenario {
	t.Helper()
	sc, err := LoadScenario(filepath.Join("..", "..", "configs", "scenarios", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func serve(t *testing.T, sc *Scenario, clock clockwork.Clock) (*Server, *httptest.Server) {
	t.Helper()
	s := New(sc, clock)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func parseFeed(t *testing.T, body []byte) *gofeed.Feed {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func TestLoadDemo(t *testing.T) {
	sc := loadDemo(t)
	want := []string{"fj-gov-weibo", "fz-wechat", "xm-douyin", "fz-health-toutiao", "fz-edu-weibo", "np-culture-wechat"}
	var got []string
	for _, a := range sc.Accounts {
		got = append(got, a.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got accounts %v, want %v", got, want)
	}
}

func TestLoadScenarioRejects(t *testing.T) {
	laughs := "x0: &x0 [x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 9; i++ {
		ref := fmt.Sprintf("*x%d", i-1)
		laughs += fmt.Sprintf("x%d: &x%d [%s]\n", i, i, strings.Repeat(ref+", ", 8)+ref)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "seed: 1\naccounts:\n  - id: a\n    format: rss\n    colour: red\n", "colour"},
		{"bad format", "accounts:\n  - id: a\n    format: xml\n", `format "xml"`},
		{"bad id", "accounts:\n  - id: A.B\n    format: rss\n", "id: want"},
		{"duplicate id", "accounts:\n  - id: a\n    format: rss\n  - id: a\n    format: rss\n", "duplicate"},
		{"gbk json", "accounts:\n  - id: a\n    format: json\n    encoding: gbk\n", "utf-8 only"},
		{"no accounts", "seed: 1\n", "none given"},
		{"injection outside window", "accounts:\n  - id: a\n    format: rss\n    history_days: 5\n    incidents:\n      privacy_leak: {days_ago: 9}\n", "days_ago 9: want 0 to 4"},
		{"alias cycle", "accounts:\n  - &a {id: a, format: rss, incidents: *a}\n", "s.yaml:2: alias *a at line 2 column 40 refers to its own anchor: a cycle"},
		{"billion laughs", laughs, "aliases expand to more than 1000000 values"},
		{"injection in the silence", "accounts:\n  - id: a\n    format: rss\n    incidents:\n      silent_days: 15\n      gambling_spam: {days_ago: 15}\n", "days_ago 15: want 16 to 34"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadScenario(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	sc := loadDemo(t)
	s1, ts1 := serve(t, sc, clockwork.NewFakeClockAt(start))
	_, ts2 := serve(t, sc, clockwork.NewFakeClockAt(start))
	other := *sc
	other.Seed++
	_, ts3 := serve(t, &other, clockwork.NewFakeClockAt(start))
	for _, a := range sc.Accounts {
		t.Run(a.ID, func(t *testing.T) {
			_, b1 := get(t, ts1.URL+s1.FeedPath(a.ID), nil)
			_, b2 := get(t, ts2.URL+s1.FeedPath(a.ID), nil)
			_, b3 := get(t, ts3.URL+s1.FeedPath(a.ID), nil)
			if !bytes.Equal(b1, b2) {
				t.Errorf("got different feeds for the same seed and clock")
			}
			if bytes.Equal(b1, b3) {
				t.Errorf("got the same feed for different seeds, want different")
			}
		})
	}
}

func TestConditionalGet(t *testing.T) {
	s, ts := serve(t, loadDemo(t), clockwork.NewFakeClockAt(start))
	url := ts.URL + s.FeedPath("fj-gov-weibo")
	resp, _ := get(t, url, nil)
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("got ETag %q, Last-Modified %q, want both set", etag, lastMod)
	}
	lm, err := http.ParseTime(lastMod)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"matching etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"other etag", map[string]string{"If-None-Match": `"nope"`}, http.StatusOK},
		{"etag wins over date", map[string]string{"If-None-Match": `"nope"`, "If-Modified-Since": lastMod}, http.StatusOK},
		{"same date", map[string]string{"If-Modified-Since": lastMod}, http.StatusNotModified},
		{"older date", map[string]string{"If-Modified-Since": lm.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		{"unconditional", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := get(t, url, tt.hdr)
			if resp.StatusCode != tt.want {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.want)
			}
			if resp.Header.Get("ETag") != etag {
				t.Errorf("got ETag %q, want %q", resp.Header.Get("ETag"), etag)
			}
		})
	}
}

func TestFeedsParse(t *testing.T) {
	sc := loadDemo(t)
	s, ts := serve(t, sc, clockwork.NewFakeClockAt(start))
	for _, a := range sc.Accounts {
		t.Run(a.ID, func(t *testing.T) {
			resp, body := get(t, ts.URL+s.FeedPath(a.ID), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			f := parseFeed(t, body)
			if f.FeedType != a.Format {
				t.Errorf("got feed type %q, want %q", f.FeedType, a.Format)
			}
			if f.Title != a.Title {
				t.Errorf("got title %q, want %q", f.Title, a.Title)
			}
			if len(f.Items) == 0 {
				t.Fatalf("got no items")
			}
			for _, it := range f.Items {
				if it.GUID == "" || it.PublishedParsed == nil || it.PublishedParsed.After(start) {
					t.Errorf("got item guid %q published %v, want a guid and a time before %v", it.GUID, it.PublishedParsed, start)
				}
			}
		})
	}
	if resp, _ := get(t, ts.URL+"/feeds/fj-gov-weibo.atom", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("got status %d for the wrong format, want 404", resp.StatusCode)
	}
}

func TestGBKFeed(t *testing.T) {
	sc := loadDemo(t)
	s, ts := serve(t, sc, clockwork.NewFakeClockAt(start))
	resp, body := get(t, ts.URL+s.FeedPath("np-culture-wechat"), nil)
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="GBK"?>`)) {
		t.Errorf("got declaration %q, want encoding GBK", body[:40])
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "charset") {
		t.Errorf("got Content-Type %q, want no charset", ct)
	}
	if bytes.Contains(body, []byte("南平文旅")) {
		t.Errorf("got utf-8 title bytes in a gbk feed")
	}
	if got := parseFeed(t, body).Title; got != "南平文旅" {
		t.Errorf("got title %q, want 南平文旅", got)
	}
}

func TestIncidents(t *testing.T) {
	sc := loadDemo(t)
	s, ts := serve(t, sc, clockwork.NewFakeClockAt(start))
	feed := func(id string) *gofeed.Feed {
		_, b := get(t, ts.URL+s.FeedPath(id), nil)
		return parseFeed(t, b)
	}

	t.Run("gambling_spam", func(t *testing.T) {
		n := 0
		for _, it := range feed("fz-health-toutiao").Items {
			if regexp.MustCompile(`投注|威尼斯人|葡京`).MatchString(it.Title) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("got %d spam titles, want 1", n)
		}
	})

	t.Run("privacy_leak", func(t *testing.T) {
		phone := regexp.MustCompile(`1[3-9]\d{9}`)
		idNum := regexp.MustCompile(`\d{17}[\dX]`)
		var ids []string
		phones := 0
		for _, it := range feed("fz-edu-weibo").Items {
			ids = append(ids, idNum.FindAllString(it.Content, -1)...)
			phones += len(phone.FindAllString(it.Content, -1))
		}
		if len(ids) != 1 || phones == 0 {
			t.Fatalf("got id numbers %v and %d phones, want 1 and some", ids, phones)
		}
		id := ids[0]
		if got, want := id[17], idCheckDigit(id[:17]); got != want {
			t.Errorf("got check digit %c, want %c", got, want)
		}
		birth, err := time.Parse("20060102", id[6:14])
		if err != nil || birth.Year() < 1900 || birth.After(start) {
			t.Errorf("got birth date %q (%v), want a real date", id[6:14], err)
		}
	})

	t.Run("silent_days", func(t *testing.T) {
		items := feed("np-culture-wechat").Items
		if len(items) == 0 {
			t.Fatal("got no items, want history before the silence")
		}
		if got, want := *items[0].PublishedParsed, start.Add(-15*24*time.Hour); !got.Equal(want) {
			t.Errorf("got newest post at %v, want %v: exactly 15 days before the start", got, want)
		}
		if got := s.LastPost("np-culture-wechat"); !got.Equal(start.Add(-15 * 24 * time.Hour)) {
			t.Errorf("LastPost = %v, want 15 days before %v", got, start)
		}
	})

	t.Run("ordinary accounts clean", func(t *testing.T) {
		for _, id := range []string{"fj-gov-weibo", "fz-wechat", "xm-douyin"} {
			for _, it := range feed(id).Items {
				if strings.Contains(it.Title, "投注") || regexp.MustCompile(`\d{17}[\dX]`).MatchString(it.Content) {
					t.Errorf("%s: got incident in %q", id, it.Title)
				}
			}
		}
	})
}

func TestIDCheckDigit(t *testing.T) {
	tests := []struct{ id string }{
		{"11010519491231002X"}, // the example in GB 11643-1999
		{"440524188001010014"},
	}
	for _, tt := range tests {
		if got, want := idCheckDigit(tt.id[:17]), tt.id[17]; got != want {
			t.Errorf("%s: got check digit %c, want %c", tt.id, got, want)
		}
	}
}

func TestClockAdvanceAddsPosts(t *testing.T) {
	sc := loadDemo(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 8, 2, 16, 30, 0, 0, time.UTC)) // 00:30 Beijing
	s, ts := serve(t, sc, clock)
	ids := func() map[string]bool {
		_, b := get(t, ts.URL+s.FeedPath("fj-gov-weibo"), nil)
		m := make(map[string]bool)
		for _, it := range parseFeed(t, b).Items {
			m[it.GUID] = true
		}
		return m
	}
	before := ids()
	clock.Advance(22 * time.Hour) // 22:30 Beijing, same day
	after := ids()
	if got, want := len(after)-len(before), 3; got != want {
		t.Errorf("got %d new posts, want %d", got, want)
	}
	for id := range before {
		if !after[id] {
			t.Errorf("got post %s dropped within the same day", id)
		}
	}
}

// beijing is a wall-clock time in Beijing.
func beijing(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, calendar.Shanghai)
}

// TestScriptAtAnyHour serves the demo scenario from starts at several times
// of day and across month and year ends, and lets the clock run on for two
// days: the silent account's newest post is silent_days old at the start and
// stays the same post, each incident is the same single post throughout,
// placed on its day counted from the start.
func TestScriptAtAnyHour(t *testing.T) {
	sc := loadDemo(t)
	for _, at := range []time.Time{
		beijing(2026, 8, 3, 0, 30),
		beijing(2026, 8, 3, 8, 0),
		beijing(2026, 8, 3, 16, 30),
		beijing(2026, 8, 3, 23, 59),
		beijing(2026, 11, 30, 23, 59), // the clock crosses a month end
		beijing(2027, 1, 1, 0, 30),    // the history spans a year end
		beijing(2026, 3, 1, 7, 59),    // the silence spans February
	} {
		t.Run(at.Format("2006-01-02T15:04"), func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(at.Add(17 * time.Second))
			s, ts := serve(t, sc, clock)
			if !s.Start().Equal(at.Add(17 * time.Second)) {
				t.Fatalf("Start = %v, want %v", s.Start(), at.Add(17*time.Second))
			}
			incidents := map[string]string{} // account → the incident post's id
			var last string
			for step := 0; step <= 8; step++ {
				now := clock.Now()
				for _, a := range sc.Accounts {
					_, b := get(t, ts.URL+s.FeedPath(a.ID), nil)
					items := parseFeed(t, b).Items
					if len(items) == 0 {
						t.Fatalf("%s at %v: no items", a.ID, now)
					}
					for _, it := range items {
						if it.PublishedParsed.After(now) {
							t.Errorf("%s at %v: post %s published in the future, %v", a.ID, now, it.GUID, it.PublishedParsed)
						}
					}
					if a.Incidents.SilentDays > 0 {
						want := s.Start().Add(-time.Duration(a.Incidents.SilentDays) * 24 * time.Hour)
						if got := *items[0].PublishedParsed; !got.Equal(want) {
							t.Errorf("%s at %v: newest post at %v, want %v", a.ID, now, got, want)
						}
						if last == "" {
							last = items[0].GUID
						} else if items[0].GUID != last {
							t.Errorf("%s at %v: newest post %s, want still %s", a.ID, now, items[0].GUID, last)
						}
					}
					var inj *Injection
					switch {
					case a.Incidents.GamblingSpam != nil:
						inj = a.Incidents.GamblingSpam
					case a.Incidents.PrivacyLeak != nil:
						inj = a.Incidents.PrivacyLeak
					default:
						continue
					}
					y, m, d := s.Start().In(calendar.Shanghai).Date()
					wantAt := time.Date(y, m, d-inj.DaysAgo, 9, 30, 0, 0, calendar.Shanghai)
					var found []string
					for _, p := range s.Posts(a.ID) {
						if p.Incident != "" {
							found = append(found, p.ID)
							if !p.Published.Equal(wantAt) {
								t.Errorf("%s at %v: incident at %v, want %v", a.ID, now, p.Published, wantAt)
							}
						}
					}
					if len(found) != 1 {
						t.Fatalf("%s at %v: incident posts %v, want one", a.ID, now, found)
					}
					if prev, ok := incidents[a.ID]; ok && prev != found[0] {
						t.Errorf("%s at %v: incident post %s, want still %s", a.ID, now, found[0], prev)
					}
					incidents[a.ID] = found[0]
				}
				clock.Advance(6 * time.Hour)
			}
		})
	}
}

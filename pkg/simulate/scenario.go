package simulate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/conf"
)

// Feed formats an account can be served in.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
)

// Encodings an XML feed can be served in.
const (
	EncodingUTF8 = "utf-8"
	EncodingGBK  = "gbk"
)

// Defaults applied by LoadScenario and New to fields left at zero.
const (
	defaultHistoryDays = 20
	maxPostsPerDay     = 48
)

var accountIDPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Scenario is a scripted fake platform: a seed and the accounts it serves.
// The same Scenario and the same clock always produce the same feeds.
type Scenario struct {
	// Seed drives every random choice: post times, texts, ids and metrics.
	Seed int64 `yaml:"seed"`
	// LinkBase prefixes the link of every generated post; the default is
	// "https://simulate.govwatch.test".
	LinkBase string            `yaml:"link_base"`
	Accounts []AccountScenario `yaml:"accounts"`
}

// AccountScenario is one account of the fake platform.
type AccountScenario struct {
	// ID is the account id, subject-safe: [a-z0-9_-]+.
	ID string `yaml:"id"`
	// Format is the feed format: rss, atom or json.
	Format string `yaml:"format"`
	// Title is the feed title, the account's display name.
	Title string `yaml:"title"`
	// Author is the author name on each post; the default is Title.
	Author string `yaml:"author"`
	// PostsPerDay is the number of ordinary posts published each day.
	PostsPerDay int `yaml:"posts_per_day"`
	// HistoryDays is how many days of posts the feed carries (default 20).
	HistoryDays int `yaml:"history_days"`
	// Encoding is utf-8 (default) or gbk; gbk is for rss and atom only and
	// is named in the XML declaration, not in the Content-Type header.
	Encoding  string    `yaml:"encoding"`
	Incidents Incidents `yaml:"incidents"`
}

// Incidents are the scripted problems of one account.
type Incidents struct {
	// GamblingSpam adds a post whose title carries an injected SEO spam line.
	GamblingSpam *Injection `yaml:"gambling_spam"`
	// PrivacyLeak adds a post whose text leaks a mobile number and a valid
	// 18-digit citizen ID number.
	PrivacyLeak *Injection `yaml:"privacy_leak"`
	// IllegalLink adds a post whose body carries a link hidden off-screen
	// to a gambling site, as a hacked page's injection does.
	IllegalLink *Injection `yaml:"illegal_link"`
	// SilentDays, when positive, makes the account's newest post exactly
	// this many days (of 24 h) old when the simulator starts; nothing is
	// published after it. See Server.Start.
	SilentDays int `yaml:"silent_days"`
}

// Injection places an incident post on a day of the grid.
type Injection struct {
	// DaysAgo is the day of the post counted back from the day the
	// simulator started (Beijing time): 0 is that day, 1 the day before.
	// The post goes out at 09:30 that day. On a silent account it must be
	// more than silent_days, before the last post.
	DaysAgo int `yaml:"days_ago"`
}

// LoadScenario reads a scenario file strictly (unknown keys are errors),
// applies defaults and validates it.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	if err := conf.CheckAliases(path, b); err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	sc.setDefaults()
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return &sc, nil
}

// setDefaults fills the fields left at zero. It is the one place defaults live.
func (sc *Scenario) setDefaults() {
	if sc.LinkBase == "" {
		sc.LinkBase = "https://simulate.govwatch.test"
	}
	for i := range sc.Accounts {
		a := &sc.Accounts[i]
		if a.HistoryDays == 0 {
			a.HistoryDays = defaultHistoryDays
		}
		if a.Encoding == "" {
			a.Encoding = EncodingUTF8
		}
		if a.Author == "" {
			a.Author = a.Title
		}
	}
}

// Validate reports every problem of the scenario at once.
func (sc *Scenario) Validate() error {
	var errs []error
	bad := func(i int, id, format string, args ...any) {
		errs = append(errs, fmt.Errorf("accounts[%d] (%q): %s", i, id, fmt.Sprintf(format, args...)))
	}
	if len(sc.Accounts) == 0 {
		errs = append(errs, errors.New("accounts: none given"))
	}
	seen := make(map[string]bool)
	for i, a := range sc.Accounts {
		if !accountIDPattern.MatchString(a.ID) {
			bad(i, a.ID, "id: want [a-z0-9_-]+")
		}
		if seen[a.ID] {
			bad(i, a.ID, "id: duplicate")
		}
		seen[a.ID] = true
		switch a.Format {
		case FormatRSS, FormatAtom, FormatJSON:
		default:
			bad(i, a.ID, "format %q: want rss, atom or json", a.Format)
		}
		switch a.Encoding {
		case "", EncodingUTF8:
		case EncodingGBK:
			if a.Format == FormatJSON {
				bad(i, a.ID, "encoding %q: json feeds are utf-8 only", a.Encoding)
			}
		default:
			bad(i, a.ID, "encoding %q: want utf-8 or gbk", a.Encoding)
		}
		if a.PostsPerDay < 0 || a.PostsPerDay > maxPostsPerDay {
			bad(i, a.ID, "posts_per_day %d: want 0 to %d", a.PostsPerDay, maxPostsPerDay)
		}
		if a.HistoryDays < 0 {
			bad(i, a.ID, "history_days %d: want a positive number", a.HistoryDays)
		}
		if a.Incidents.SilentDays < 0 {
			bad(i, a.ID, "incidents.silent_days %d: want 0 or more", a.Incidents.SilentDays)
		}
		injections := []struct {
			name string
			inj  *Injection
		}{{"gambling_spam", a.Incidents.GamblingSpam}, {"privacy_leak", a.Incidents.PrivacyLeak}, {"illegal_link", a.Incidents.IllegalLink}}
		for _, in := range injections {
			name, inj := in.name, in.inj
			if inj == nil {
				continue
			}
			// A silent account publishes nothing after its last post, so an
			// incident must fall on a day before that post's day.
			lo, hi := 0, a.Incidents.SilentDays+a.HistoryDays-1
			if a.Incidents.SilentDays > 0 {
				lo = a.Incidents.SilentDays + 1
			}
			if inj.DaysAgo < lo || (a.HistoryDays > 0 && inj.DaysAgo > hi) {
				bad(i, a.ID, "incidents.%s.days_ago %d: want %d to %d", name, inj.DaysAgo, lo, hi)
			}
		}
	}
	return errors.Join(errs...)
}

// Package linkcheck is the collector's dead-link job. The collector hands
// it every post version it publishes (Track); once a day it checks each
// distinct link of the posts collected in the last MaxAge (HEAD, then GET
// when the server refuses HEAD with 405 or 501) through the collector's
// hardened HTTP client, whose per-host limits hold across replicas, and
// raises content.dead_link (minor) for every account whose posts carry a
// link that failed on Failures check days in a row. It resolves when the
// link answers again, or when no post of the account carries it any more.
//
// A failure is a 404, a 410, a 5xx or no answer at all (DNS, connection,
// TLS, timeout, a refused redirect). 429 and 403 say the server is there
// but will not talk to a robot: such a day counts neither way. Any other
// answer is alive.
//
// # Replicas
//
// Several collectors run the job over one store. Before fetching a link on
// a day (Beijing time) a replica claims it with SetNX on
// collector/linkcheck/claim/<day>/<link>; only the winner fetches, updates
// the link's record (collector/linkcheck/link/<link>) and publishes its
// alerts, so a link is fetched once a day whatever the number of replicas,
// and the alerts' startsAt (the check that reached Failures) is the one
// every later repeat carries. Posts are kept under
// collector/linkcheck/post/<post id> for MaxAge after their last version.
package linkcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/metric"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Store is the part of the store the job uses.
type Store = store.ListKV

// The kinds a round lists: posts waiting for their links, and links.
var (
	postKind = store.DeclareKind(postPrefix, 1)
	linkKind = store.DeclareKind(linkPrefix, 1)
)

// AlertPublisher takes content.dead_link alerts: the bus.
type AlertPublisher = model.AlertPublisher

// LabelLink is the label naming the dead link: an account has one alert
// per dead link.
const LabelLink = "link"

// Options build a Checker. Registry, Store, HTTP and Alerts are required.
type Options struct {
	Registry *registry.Registry
	Store    Store
	// HTTP is the collector's hardened client, its hosts limited.
	HTTP   *http.Client
	Alerts AlertPublisher
	// MaxAge is how long after its last version a post's links are
	// checked; default 30 days.
	MaxAge time.Duration
	// Failures is the number of check days in a row a link must fail to
	// be reported; default 3.
	Failures int
	// PerDay caps the links this replica checks in one day; default 10000.
	PerDay int
	// Every is how often a pass looks for links not checked today;
	// default 1h.
	Every time.Duration
	// Texts override the alert's templates (summary, description,
	// resolved, gone).
	Texts   map[string]string
	Clock   clockwork.Clock
	Log     *zap.Logger
	Metrics prometheus.Registerer
}

// Checker is the dead-link job.
type Checker struct {
	o      Options
	texts  *alerttext.Texts
	checks *prometheus.CounterVec

	mu    sync.Mutex
	day   string // the day the budget counts
	spent int
}

// take counts one check against day's budget, reporting whether there
// was room.
func (c *Checker) take(day string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if day != c.day {
		c.day, c.spent = day, 0
	}
	if c.spent >= c.o.PerDay {
		return false
	}
	c.spent++
	return true
}

// DefaultTexts word content.dead_link for the people on duty.
var DefaultTexts = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）发布内容中的链接已连续 {{.Days}} 天无法访问`,
	"description": `{{.Unit}}「{{.Account.Name}}」发布的{{range $i, $p := .Posts}}{{if $i}}、{{end}}《{{$p.Title}}》{{end}}中的链接 {{.URL}} ` +
		`自 {{cst .Since}} 起连续 {{.Days}} 天无法访问（{{.Status}}），请修改为有效链接或删除。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）发布内容中的链接 {{.URL}} 已恢复访问`,
	"gone":     `{{.Account.Name}}（{{platform .Account.Platform}}）已无在查内容含失效链接 {{.URL}}，告警解除`,
}

// New returns a Checker.
func New(o Options) (*Checker, error) {
	if o.Registry == nil || o.Store == nil || o.HTTP == nil || o.Alerts == nil {
		return nil, errors.New("linkcheck: Registry, Store, HTTP and Alerts are required")
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 30 * 24 * time.Hour
	}
	if o.Failures <= 0 {
		o.Failures = 3
	}
	if o.PerDay <= 0 {
		o.PerDay = 10000
	}
	if o.Every <= 0 {
		o.Every = time.Hour
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	defs := maps.Clone(DefaultTexts)
	maps.Copy(defs, o.Texts)
	texts, err := alerttext.NewTexts(defs)
	if err != nil {
		return nil, fmt.Errorf("dead_link texts: %w", err)
	}
	return &Checker{o: o, texts: texts, checks: metric.CounterVec(o.Metrics, "govwatch_collector_link_checks_total",
		"Links of collected posts checked for content.dead_link, by result (ok, failed, ignored: 429 or 403, throttled: held back by the host limits, lost: claimed by another replica, over_budget: per_day reached).", "result")}, nil
}

const (
	postPrefix  = "collector/linkcheck/post/"
	linkPrefix  = "collector/linkcheck/link/"
	claimPrefix = "collector/linkcheck/claim/"
	claimTTL    = 48 * time.Hour
)

// post is what is kept of a tracked post.
type post struct {
	ID        string   `json:"id"`
	AccountID string   `json:"account_id"`
	Title     string   `json:"title"`
	Links     []string `json:"links"`
}

// record is a link's state.
type record struct {
	URL string `json:"url"`
	// Day is the last day (Beijing time, 2006-01-02) the link was checked.
	Day string `json:"day"`
	// Fails counts the failed check days in a row; a 429 or 403 day
	// leaves it as it is.
	Fails  int    `json:"fails"`
	Status string `json:"status"`
	// FirstFail is the first failed check of the run, for texts.
	FirstFail time.Time `json:"first_fail,omitzero"`
	// DeadSince is the check that reached Failures: the alerts' startsAt.
	DeadSince time.Time `json:"dead_since,omitzero"`
	// Alerted are the accounts with a firing alert for the link, and
	// Started its startsAt, kept until they are resolved.
	Alerted []string  `json:"alerted,omitempty"`
	Started time.Time `json:"started,omitzero"`
}

// Key is the store key part of a link: a hash, since URLs are long and
// hold any character.
func Key(url string) string {
	h := sha256.Sum256([]byte(url))
	return hex.EncodeToString(h[:12])
}

// Track records the links of a published post version for checking; a
// version without links, or a deletion, stops checking the post's links.
func (c *Checker) Track(ctx context.Context, p *model.Post) error {
	key := postPrefix + p.ID
	if p.Deleted || len(p.Links) == 0 {
		return c.o.Store.Delete(ctx, key)
	}
	rec := post{ID: p.ID, AccountID: p.AccountID, Title: title(p)}
	for _, l := range p.Links {
		rec.Links = append(rec.Links, l.URL)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return c.o.Store.Set(ctx, key, b, c.o.MaxAge)
}

func title(p *model.Post) string {
	t := strings.TrimSpace(p.Title)
	if t == "" {
		t = strings.TrimSpace(p.Text)
	}
	if rs := []rune(t); len(rs) > 30 {
		t = string(rs[:30]) + "…"
	}
	return t
}

// Run runs a pass at once and then every Options.Every until ctx ends.
func (c *Checker) Run(ctx context.Context) error {
	t := c.o.Clock.NewTicker(c.o.Every)
	defer t.Stop()
	for {
		if err := c.Pass(ctx); err != nil && ctx.Err() == nil {
			c.o.Log.Warn("link check pass", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
	}
}

// Pass checks every tracked link not yet checked today, and resolves the
// alerts of links no post carries any more. Passes may overlap, on one
// replica or several: the claims keep each link to one check a day.
func (c *Checker) Pass(ctx context.Context) error {
	now := c.o.Clock.Now()
	day := now.In(calendar.Shanghai).Format(time.DateOnly)
	refs := map[string][]post{} // link → the posts carrying it
	err := c.o.Store.List(ctx, postKind, func(_ string, val []byte) error {
		var p post
		if json.Unmarshal(val, &p) != nil {
			return nil // not ours to judge; it expires
		}
		for _, u := range p.Links {
			refs[u] = append(refs[u], p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan posts: %w", err)
	}
	// Least recently checked first, so that a day's budget left short
	// reaches the others the next day.
	var recs []*record
	for u := range refs {
		r, err := c.load(ctx, u)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(x, y *record) int {
		if x.Day != y.Day {
			return strings.Compare(x.Day, y.Day)
		}
		return strings.Compare(x.URL, y.URL)
	})
	var errs []error
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.link(ctx, r, refs[r.URL], day, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.URL, err))
		}
	}
	// Links still alerted that no tracked post carries: resolve.
	var orphans []record
	err = c.o.Store.List(ctx, linkKind, func(_ string, val []byte) error {
		var r record
		if json.Unmarshal(val, &r) == nil && len(r.Alerted) > 0 && refs[r.URL] == nil {
			orphans = append(orphans, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan links: %w", err)
	}
	for _, r := range orphans {
		if won, err := c.claim(ctx, day, r.URL); err != nil || !won {
			errs = append(errs, err)
			continue
		}
		if err := c.judge(ctx, &r, nil, now); err != nil {
			errs = append(errs, err)
		}
		if err := c.save(ctx, &r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Checker) claim(ctx context.Context, day, url string) (bool, error) {
	return c.o.Store.SetNX(ctx, claimPrefix+day+"/"+Key(url), []byte{1}, claimTTL)
}

// link checks one link once today and publishes what follows.
func (c *Checker) link(ctx context.Context, r *record, posts []post, day string, now time.Time) error {
	url := r.URL
	if r.Day == day {
		return nil
	}
	won, err := c.claim(ctx, day, url)
	if err != nil || !won {
		if err == nil {
			c.checks.WithLabelValues("lost").Inc()
		}
		return err
	}
	if !c.take(day) {
		c.checks.WithLabelValues("over_budget").Inc()
		// Give the claim back: another replica may have room today.
		return c.o.Store.Delete(ctx, claimPrefix+day+"/"+Key(url))
	}
	verdict, status := c.check(ctx, url)
	c.checks.WithLabelValues(verdict).Inc()
	if verdict == "throttled" {
		// Held back by our own host limits (or stopping): not the link's
		// fault. Give the day's claim back so a later pass tries again.
		return c.o.Store.Delete(ctx, claimPrefix+day+"/"+Key(url))
	}
	r.Day, r.Status = day, status
	switch verdict {
	case "ok":
		r.Fails, r.FirstFail, r.DeadSince = 0, time.Time{}, time.Time{}
	case "failed":
		if r.Fails == 0 {
			r.FirstFail = now
		}
		r.Fails++
		if r.Fails == c.o.Failures {
			r.DeadSince = now
		}
	}
	if err := c.judge(ctx, r, posts, now); err != nil {
		return err
	}
	return c.save(ctx, r)
}

func (c *Checker) load(ctx context.Context, url string) (*record, error) {
	b, err := c.o.Store.Get(ctx, linkPrefix+Key(url))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &record{URL: url}, nil
	case err != nil:
		return nil, err
	}
	r := &record{}
	if err := json.Unmarshal(b, r); err != nil || r.URL != url {
		return &record{URL: url}, nil
	}
	return r, nil
}

func (c *Checker) save(ctx context.Context, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return c.o.Store.Set(ctx, linkPrefix+Key(r.URL), b, c.o.MaxAge+7*24*time.Hour)
}

// check fetches url: HEAD, then GET when HEAD is refused. The verdict is
// ok, failed or ignored; status says what answered, for texts.
func (c *Checker) check(ctx context.Context, url string) (verdict, status string) {
	code, err := c.fetch(ctx, http.MethodHead, url)
	if err == nil && (code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented) {
		code, err = c.fetch(ctx, http.MethodGet, url)
	}
	switch {
	case errors.Is(err, hostlimit.ErrThrottled) || ctx.Err() != nil:
		return "throttled", ""
	case err != nil:
		return "failed", "无法连接"
	case code == http.StatusNotFound || code == http.StatusGone || code >= 500:
		return "failed", fmt.Sprintf("HTTP %d", code)
	case code == http.StatusTooManyRequests || code == http.StatusForbidden:
		return "ignored", fmt.Sprintf("HTTP %d", code)
	}
	return "ok", fmt.Sprintf("HTTP %d", code)
}

func (c *Checker) fetch(ctx context.Context, method, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// judge publishes the alerts of link r for the accounts of posts: firing
// for each while the link is dead, resolved for those alerted before when
// it answers again or no post of theirs carries it any more.
func (c *Checker) judge(ctx context.Context, r *record, posts []post, now time.Time) error {
	byAccount := map[string][]post{}
	for _, p := range posts {
		byAccount[p.AccountID] = append(byAccount[p.AccountID], p)
	}
	dead := !r.DeadSince.IsZero()
	var errs []error
	var still []string
	for _, id := range r.Alerted {
		how := ""
		switch {
		case byAccount[id] == nil:
			how = "gone"
		case !dead:
			how = "resolved"
		}
		if how == "" {
			continue
		}
		if err := c.publish(ctx, r, id, nil, now, how); err != nil {
			errs = append(errs, err)
			still = append(still, id)
		}
	}
	if dead {
		for _, id := range slices.Sorted(maps.Keys(byAccount)) {
			if err := c.publish(ctx, r, id, byAccount[id], time.Time{}, ""); err != nil {
				errs = append(errs, err)
				continue
			}
			still = append(still, id)
		}
	}
	sort.Strings(still)
	r.Alerted = slices.Compact(still)
	switch {
	case dead && len(r.Alerted) > 0:
		r.Started = r.DeadSince
	case len(r.Alerted) == 0:
		r.Started = time.Time{}
	}
	return errors.Join(errs...)
}

func (c *Checker) publish(ctx context.Context, r *record, accountID string, posts []post, end time.Time, how string) error {
	a, ok := c.o.Registry.Account(accountID)
	if !ok {
		a = &registry.Account{ID: accountID, Name: accountID}
	}
	labels := alerttext.AccountLabels(c.o.Registry, a, model.CategoryContentDeadLink)
	labels[LabelLink] = r.URL
	slices.SortFunc(posts, func(x, y post) int { return strings.Compare(x.ID, y.ID) })
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(c.o.Registry, a.Unit), "URL": r.URL,
		"Posts": posts, "Since": r.FirstFail, "Days": c.o.Failures, "Status": r.Status,
	}
	ann := map[string]string{model.AnnotationURL: r.URL}
	if how == "" {
		ann[model.AnnotationSummary] = c.texts.Render("summary", data)
		ann[model.AnnotationDescription] = c.texts.Render("description", data)
		ids := make([]string, len(posts))
		for i, p := range posts {
			ids[i] = p.ID
		}
		ann[model.AnnotationEvidence] = fmt.Sprintf("%s（%s）见于 %s", r.URL, r.Status, strings.Join(ids, "、"))
		ann[model.AnnotationSuggestion] = "打开链接核实；目标页面已迁移的改为新地址，已撤销的删除链接或注明"
	} else {
		ann[model.AnnotationSummary] = c.texts.Render(how, data)
	}
	start := r.Started
	if how == "" {
		start = r.DeadSince
	}
	alert := &model.Alert{Labels: labels, Annotations: ann, StartsAt: start.UTC(), EndsAt: end.UTC()}
	if end.IsZero() {
		alert.EndsAt = time.Time{}
	}
	if u, ok := c.o.Registry.Unit(a.Unit); ok && u.Name != "" {
		ann[model.AnnotationUnitName] = u.Name
	}
	if _, err := c.o.Alerts.PublishAlert(ctx, alert); err != nil {
		c.o.Log.Warn("publish dead_link", zap.String("account_id", accountID), zap.Error(err))
		return err
	}
	return nil
}

package simulate

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"go.uber.org/zap"
)

// Generated serves n made-up quiet accounts for load runs: gen-000000 …
// gen-<n-1>, each an RSS feed of a few posts that never changes, as most
// official accounts look between two posts. Nothing is kept per account:
// a feed and its ETag are derived from the seed and the account id when
// asked for, so 300,000 accounts cost no more memory than ten.
type Generated struct {
	n    int
	seed uint64
	in   GeneratedIncidents

	fetches     atomic.Uint64 // 200 answers
	notModified atomic.Uint64 // 304 answers
}

// GeneratedPrefix starts every generated account id.
const GeneratedPrefix = "gen-"

// NewGenerated returns the generator of n accounts.
func NewGenerated(n int, seed uint64) *Generated {
	return &Generated{n: max(n, 0), seed: seed}
}

// GeneratedIncidents make some generated accounts less quiet, for runs that load
// the analyzer and the notifier too. The zero value: every account quiet,
// its posts dated before a fixed day in 2026.
type GeneratedIncidents struct {
	// Anchor is when the newest posts are published, within two days
	// before it (zero: a fixed day in 2026, so every account is months
	// silent by now). A feed stays the same for one Anchor, so a run
	// keeps getting 304s.
	Anchor time.Time
	// SilentEvery makes every n-th account (from account 1) silent: its
	// newest post is 20 to 22 days older than Anchor. Zero: none.
	SilentEvery int
	// LeakEvery gives every n-th account's newest post (from account 2)
	// a person's mobile and ID number. Zero: none.
	LeakEvery int
}

// SetIncidents sets what makes accounts less quiet; call it before serving.
func (g *Generated) SetIncidents(in GeneratedIncidents) { g.in = in }

// silent and leaks say whether account i has that incident.
func (g *Generated) silent(i int) bool {
	return g.in.SilentEvery > 0 && i%g.in.SilentEvery == 1%g.in.SilentEvery
}
func (g *Generated) leaks(i int) bool {
	return g.in.LeakEvery > 0 && i%g.in.LeakEvery == 2%g.in.LeakEvery
}

// N is the number of accounts.
func (g *Generated) N() int { return g.n }

// ID is the id of account i.
func (g *Generated) ID(i int) string { return fmt.Sprintf("%s%06d", GeneratedPrefix, i) }

// FeedPath is the path of account i's feed, e.g. /gen/gen-000042.rss.
func (g *Generated) FeedPath(i int) string { return "/gen/" + g.ID(i) + ".rss" }

// index is the account number of id, or -1 when id is not one of ours.
func (g *Generated) index(id string) int {
	num, ok := strings.CutPrefix(id, GeneratedPrefix)
	if !ok || len(num) < 6 {
		return -1
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= g.n || g.ID(i) != id {
		return -1
	}
	return i
}

// key seeds everything about account i.
func (g *Generated) key(i int) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(i))
	h.Write(b[:])
	return h.Sum64()
}

// ETag is the entity tag of account i's feed.
func (g *Generated) ETag(i int) string {
	tag := "g" + strconv.FormatUint(g.key(i), 36)
	if !g.in.Anchor.IsZero() {
		tag += "-" + strconv.FormatInt(g.in.Anchor.Unix(), 36)
	}
	return `"` + tag + `"`
}

// anchor dates the generated posts: they lie in the days before it.
var anchor = time.Date(2026, 8, 3, 0, 0, 0, 0, calendar.Shanghai)

// Feed renders account i's feed: three to five posts, newest first.
func (g *Generated) Feed(i int) []byte {
	k := g.key(i)
	r := rand.New(rand.NewPCG(g.seed, k))
	id := g.ID(i)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0"><channel><title>生成账号 ` + id + `</title><link>https://simulate.govwatch.test/` + id + `</link><description>generated</description>` + "\n")
	posts := 3 + r.IntN(3)
	newest := anchor
	if !g.in.Anchor.IsZero() {
		newest = g.in.Anchor
	}
	if g.silent(i) {
		newest = newest.Add(-20 * 24 * time.Hour)
	}
	at := newest.Add(-time.Duration(r.IntN(48*60)) * time.Minute)
	for p := range posts {
		title := titlePrefixes[r.IntN(len(titlePrefixes))] + titleSubjects[r.IntN(len(titleSubjects))]
		body := bodySentences[r.IntN(len(bodySentences))] + bodySentences[r.IntN(len(bodySentences))]
		if p == 0 && g.leaks(i) {
			body += "经审核，以下人员符合领取条件：王某某，联系电话" + fakePhone(r) + "，身份证号" + fakeIDNumber(r) + "。"
		}
		guid := fmt.Sprintf("%s-%d-%x", id, p, k>>uint(p*8)&0xffff)
		fmt.Fprintf(&b, "<item><guid isPermaLink=\"false\">%s</guid><title>%s</title><link>https://simulate.govwatch.test/%s/%d</link><description>%s</description><pubDate>%s</pubDate></item>\n",
			guid, html.EscapeString(title), id, p, html.EscapeString("<p>"+body+"</p>"), at.Format(time.RFC1123Z))
		at = at.Add(-time.Duration(60+r.IntN(36*60)) * time.Minute)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}

// Handler serves GET /gen/<account_id>.rss: the feed with its ETag, or 304
// when If-None-Match names that ETag.
func (g *Generated) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gen/{file}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(r.PathValue("file"), ".rss")
		i := g.index(id)
		if !ok || i < 0 {
			http.NotFound(w, r)
			return
		}
		etag := g.ETag(i)
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		if r.Header.Get("If-None-Match") == etag {
			g.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		g.fetches.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(g.Feed(i)) //nolint:errcheck // the client went away
	})
	return mux
}

// Served counts the answers so far: full feeds and 304s.
func (g *Generated) Served() (fetches, notModified uint64) {
	return g.fetches.Load(), g.notModified.Load()
}

// WriteRegistry writes the registry file (config.RegistryFile format) of the
// generated accounts: one unit and every account as an rss source on base,
// the simulator's URL such as http://127.0.0.1:8091.
func (g *Generated) WriteRegistry(w io.Writer, base string) error {
	base = strings.TrimSuffix(base, "/")
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "# %d generated accounts served by govwatch simulate --generate %d --seed %d\n", g.n, g.n, g.seed)
	bw.WriteString("units:\n  - {id: gen, name: 生成单位, region: \"350100\", head: {name: 生成单位负责人, mobile: \"13800000000\"}}\n")
	for u := 0; u < g.n; u += len(generatedPlatforms) {
		fmt.Fprintf(bw, "  - {id: %s, name: 生成单位%d, region: \"350100\", parent: gen, head: {name: 负责人%d, mobile: \"139%08d\"}}\n",
			g.unit(u), u/len(generatedPlatforms), u/len(generatedPlatforms), u/len(generatedPlatforms))
	}
	bw.WriteString("accounts:\n")
	for i := range g.n {
		id := g.ID(i)
		fmt.Fprintf(bw, "  - {id: %s, name: %s, platform: %s, unit: %s, status: active, source: {type: rss, url: \"%s%s\"}}\n",
			id, id, GeneratedPlatform(id), g.unit(i), base, g.FeedPath(i))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write registry: %w", err)
	}
	return nil
}

// generatedPlatforms are the platforms generated accounts are spread over.
var generatedPlatforms = []string{"weibo", "wechat", "douyin", "toutiao", "website"}

// unit is the unit of account i: one per run of accounts on different
// platforms, as a unit keeps one main account per platform.
func (g *Generated) unit(i int) string {
	return fmt.Sprintf("gen-u%05d", i/len(generatedPlatforms))
}

// GeneratedPlatform is the platform of generated account id: the accounts
// of one unit are one per platform.
func GeneratedPlatform(id string) string {
	i, _ := strconv.Atoi(strings.TrimPrefix(id, GeneratedPrefix))
	return generatedPlatforms[i%len(generatedPlatforms)]
}

// RunGenerated serves g on addr until ctx is done. ready, when set, is
// called with the address once it listens.
func RunGenerated(ctx context.Context, addr string, g *Generated, log *zap.Logger, ready func(addr string)) error {
	return listenAndServe(ctx, addr, g.Handler(), func(addr string) {
		log.Info("serving generated accounts", zap.Int("accounts", g.n), zap.String("url", "http://"+addr+"/gen/"))
		if ready != nil {
			ready(addr)
		}
	}, func() {
		f, nm := g.Served()
		log.Info("simulator stopping", zap.Uint64("feeds_served", f), zap.Uint64("not_modified", nm))
	})
}

package replay

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Start is the first moment of every replay: Monday 2 March 2026, 00:00
// Beijing time, a month without statutory holidays, so working days are
// plain Mondays to Fridays whatever holiday calendar is loaded.
var Start = time.Date(2026, 3, 2, 0, 0, 0, 0, calendar.Shanghai)

// MinDays is the shortest replay that fits every scripted incident.
const MinDays = 28

// zombieDays is the silence after which the zombie incident is scripted:
// past the default 90-day threshold, when the replay is long enough.
const zombieDays = 92

// event is one message the analyzer consumes, at the time it sees it.
type event struct {
	at   time.Time
	seq  int // generation order, to keep the sort stable
	post *model.Post
	// text, when set, is the post's text and content hash, written out
	// when the post is handled (Post).
	text  *phrase
	snap  *model.AccountSnapshot
	probe *model.ProbeResult
}

// Expect is how many episodes of one category one account should fire and
// resolve.
type Expect struct {
	Category string `json:"category"`
	Account  string `json:"account_id"`
	Fired    int    `json:"fired"`
	Resolved int    `json:"resolved"`
	Incident string `json:"incident"`
}

// script is a generated replay: the registry, the stream and what it must
// raise.
type script struct {
	units    []registry.Unit
	accounts []registry.Account
	events   []event
	expect   []Expect
	end      time.Time
}

// regions are the prefecture codes of Fujian the units are spread over.
var regions = []string{"350100", "350200", "350300", "350400", "350500", "350600", "350700", "350800", "350900"}

// unitPlatforms are the platforms a unit's accounts are on, one account per
// platform (two on one platform would be account.duplicate).
var unitPlatforms = []string{"wechat", "weibo", "douyin", "toutiao", "app"}

// Ordinary texts: an opening, several topic words and a closing, all
// checked by the tests to raise nothing (no lexicon term, no digits, no
// negative or emergency term), and varied enough that two posts of one
// unit are never near-duplicates.
var (
	openings = []string{"本周工作动态：", "政务信息：", "便民服务提示：", "工作简报：", "民生关注：", "今日要闻：", "通知公告：", "政策解读："}
	topics   = []string{"春耕", "社区", "图书", "公园", "健身", "教育", "医保", "养老", "就业", "公交", "文化", "旅游", "科技", "创新",
		"农业", "林业", "水利", "绿化", "环保", "住房", "助学", "托育", "菜篮子", "志愿者", "营商环境", "政务服务", "乡村振兴",
		"非遗", "博物馆", "体育赛事", "读书月", "普法", "社保", "公积金", "人才", "夜市", "茶产业", "海洋", "港口", "物流", "电商",
		"适老化", "无障碍", "垃圾分类", "节水", "节能", "植树", "花卉", "民俗", "方言", "美食", "古厝", "侨乡", "研学", "露营", "骑行",
		"马拉松", "少年宫", "科普", "书法"}
	closings = []string{"欢迎市民关注。", "详情请见官网。", "感谢大家支持。", "敬请留意。", "欢迎留言交流。", "持续更新中。"}
	comments = []string{"请问周末可以办理吗？", "这个活动在哪里报名？", "希望多办这样的活动。", "请问需要带什么材料？", "支持，辛苦了。", "请问开放时间是几点？"}
	replies  = []string{"您好，周末正常办理。", "您好，可在官网报名。", "感谢您的关注与支持。", "您好，请携带身份证件。", "谢谢您的鼓励。", "您好，开放时间为上午九点。"}
)

// phrase is an ordinary text as the indices it is made of: an opening,
// eight topics and a closing. Ten bytes stand for some 150 characters, so
// a replay of many accounts holds its stream in memory at a fraction of
// the texts' size and writes each text out as its post is handled.
type phrase [10]uint8

func ordinaryPhrase(r *rand.Rand) phrase {
	var p phrase
	p[0] = uint8(r.IntN(len(openings)))
	for i, w := range r.Perm(len(topics))[:8] {
		p[1+i] = uint8(w)
	}
	p[9] = uint8(r.IntN(len(closings)))
	return p
}

func (p phrase) String() string {
	var b strings.Builder
	b.WriteString(openings[p[0]])
	for i, w := range p[1:9] {
		if i > 0 {
			b.WriteString("、")
		}
		b.WriteString(topics[w])
	}
	b.WriteString("等方面工作稳步推进，")
	b.WriteString(closings[p[9]])
	return b.String()
}

func ordinaryText(r *rand.Rand) string { return ordinaryPhrase(r).String() }

// generator builds a script.
type generator struct {
	r      *rand.Rand
	s      *script
	seq    int
	native int
}

func (g *generator) add(e event) {
	e.seq = g.seq
	g.seq++
	g.s.events = append(g.s.events, e)
}

func (g *generator) expect(category, account, incident string, fired, resolved int) {
	g.s.expect = append(g.s.expect, Expect{Category: category, Account: account, Fired: fired, Resolved: resolved, Incident: incident})
}

func day(d int, hour, minute int) time.Time {
	return Start.AddDate(0, 0, d).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// newPost returns a post of account a published at pub and first collected
// an hour later.
func (g *generator) newPost(a *registry.Account, kind, parent, title, text string, pub time.Time) *model.Post {
	g.native++
	native := fmt.Sprintf("%d", 100000+g.native)
	p := &model.Post{
		Schema: 1, ID: model.PostID(a.Platform, a.ID, native), AccountID: a.ID, Platform: a.Platform,
		NativeID: native, Kind: kind, ParentID: parent, URL: "https://example.gov.cn/" + a.ID + "/" + native,
		Title: title, Text: text, Author: a.Name, PublishedAt: pub.UTC(),
	}
	if kind != model.KindPost {
		p.Author = "网友"
		if kind == model.KindReply {
			p.Author = a.Name
		}
	}
	return p
}

// observe adds an observation of p collected at at with metrics m.
func (g *generator) observe(p *model.Post, at time.Time, m model.Metrics) *model.Post {
	return g.observeText(p, nil, at, m)
}

// observeText is observe for a post whose text is text, written out when
// it is handled.
func (g *generator) observeText(p *model.Post, text *phrase, at time.Time, m model.Metrics) *model.Post {
	o := *p
	o.CollectedAt = at.UTC()
	o.Metrics = m
	if text == nil {
		o.ContentHash = model.ContentHash(o.Title, o.Text, o.URL)
	}
	g.add(event{at: at, post: &o, text: text})
	return &o
}

// Post is the post e delivers, its text written out.
func (e *event) Post() *model.Post {
	if e.text == nil {
		return e.post
	}
	p := *e.post
	p.Text = e.text.String()
	p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
	return &p
}

// publish adds an ordinary post of a at pub, collected an hour later; one
// post in four is re-polled three hours after that, one in three gets a
// comment that the account answers within a day.
func (g *generator) publish(a *registry.Account, text phrase, pub time.Time) {
	p := g.newPost(a, model.KindPost, "", "", "", pub)
	m := model.Metrics{Likes: int64(2 + g.r.IntN(8)), Comments: int64(g.r.IntN(3)), Shares: int64(g.r.IntN(3)), Views: int64(50 + g.r.IntN(200))}
	g.observeText(p, &text, pub.Add(time.Hour), m)
	if g.r.IntN(4) == 0 {
		m.Likes += int64(1 + g.r.IntN(4))
		m.Shares += int64(g.r.IntN(2))
		m.Views += int64(20 + g.r.IntN(100))
		g.observeText(p, &text, pub.Add(4*time.Hour), m)
	}
	if g.r.IntN(3) == 0 {
		c := g.newPost(a, model.KindComment, p.ID, "", comments[g.r.IntN(len(comments))], pub.Add(time.Duration(60+g.r.IntN(300))*time.Minute))
		g.observe(c, c.PublishedAt.Add(20*time.Minute), model.Metrics{})
		reply := c.PublishedAt.Add(time.Duration(1+g.r.IntN(20)) * time.Hour)
		rp := g.newPost(a, model.KindReply, c.ID, "", replies[g.r.IntN(len(replies))], reply)
		g.observe(rp, reply.Add(20*time.Minute), model.Metrics{})
	}
}

// roles are the accounts the incidents happen to, picked once per replay.
type roles struct {
	leak, gambling, forced, stale, zombie, unanswered, jump, profile, probe, spike string
	crossA, crossB                                                                 string
}

// generate builds the replay of n accounts over days days.
func generate(n, days int, seed uint64) (*script, error) {
	if n < 20 {
		return nil, fmt.Errorf("at least 20 accounts are needed for the scripted incidents, not %d", n)
	}
	if days < MinDays {
		return nil, fmt.Errorf("at least %d days are needed for the scripted incidents, not %d", MinDays, days)
	}
	g := &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), s: &script{end: Start.AddDate(0, 0, days)}}
	s := g.s

	// Units of up to len(unitPlatforms) accounts, each on its own platform.
	for i := 0; len(s.accounts) < n; i++ {
		u := registry.Unit{ID: fmt.Sprintf("u%04d", i), Name: fmt.Sprintf("第%d政务服务单位", i+1), Region: regions[i%len(regions)]}
		s.units = append(s.units, u)
		k := 2 + g.r.IntN(3)
		for _, pl := range g.r.Perm(len(unitPlatforms))[:k] {
			if len(s.accounts) == n {
				break
			}
			id := fmt.Sprintf("a%05d", len(s.accounts))
			s.accounts = append(s.accounts, registry.Account{
				ID: id, Name: u.Name + model.PlatformName(unitPlatforms[pl]), Platform: unitPlatforms[pl], Unit: u.ID,
				Status: registry.StatusActive, Source: registry.Source{Type: "rss"},
			})
		}
	}
	rl := g.pickRoles()

	for i := range s.accounts {
		a := &s.accounts[i]
		g.ordinary(a, rl, days)
	}
	g.incidents(rl, days)

	slices.SortStableFunc(s.events, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	return s, nil
}

// pickRoles chooses distinct accounts for the incidents: the two
// cross-platform accounts share a unit, the probed one is an app.
func (g *generator) pickRoles() roles {
	s := g.s
	used := map[string]bool{}
	var rl roles
	// Cross-platform: the first unit with two non-app accounts.
	byUnit := map[string][]string{}
	for _, a := range s.accounts {
		if a.Platform != "app" {
			byUnit[a.Unit] = append(byUnit[a.Unit], a.ID)
		}
	}
	for _, u := range s.units {
		if ids := byUnit[u.ID]; len(ids) >= 2 {
			rl.crossA, rl.crossB = ids[0], ids[1]
			break
		}
	}
	used[rl.crossA], used[rl.crossB] = true, true
	for _, a := range s.accounts[len(s.accounts)/2:] {
		if a.Platform == "app" && !used[a.ID] {
			rl.probe = a.ID
			used[a.ID] = true
			break
		}
	}
	next := func() string {
		for {
			a := s.accounts[g.r.IntN(len(s.accounts))]
			if !used[a.ID] {
				used[a.ID] = true
				return a.ID
			}
		}
	}
	rl.leak, rl.gambling, rl.forced, rl.stale, rl.zombie = next(), next(), next(), next(), next()
	rl.unanswered, rl.jump, rl.profile, rl.spike = next(), next(), next(), next()
	return rl
}

// Incident times, in days from Start.
const (
	staleLast     = 4  // the stale account's last post (10:00) before its silence
	staleBack     = 19 // … and its next one, 15 days later to the minute
	leakDay       = 6
	probeDay      = 8
	gamblingDay   = 9
	forcedDay     = 11
	profileDay    = 12
	unansweredDay = 3  // a Thursday: due by Thursday day 10
	answerDay     = 14 // answered late
	crossDay      = 16
	spikeDay      = 17
	jumpDay       = 20
)

// ordinary adds the everyday life of account a: one or two posts a day
// (publish), a daily snapshot with steady follower growth, and for
// apps a probe every 6 hours.
func (g *generator) ordinary(a *registry.Account, rl roles, days int) {
	silentFrom, silentUntil := time.Time{}, time.Time{}
	switch a.ID {
	case rl.stale:
		silentFrom, silentUntil = day(staleLast, 10, 0), day(staleBack, 10, 0)
	case rl.zombie:
		if days > zombieDays {
			silentFrom, silentUntil = day(1, 0, 0), g.s.end
		}
	}
	last := 0 // the last day with a post, so no account is quiet for 3 days by chance
	for d := range days {
		n := g.r.IntN(3) // none, one or two
		if n == 0 && d-last >= 2 {
			n = 1
		}
		if n > 0 {
			last = d
		}
		for range n {
			pub := day(d, 8+g.r.IntN(12), g.r.IntN(60))
			if !pub.Before(silentFrom) && pub.Before(silentUntil) {
				continue
			}
			if pub.Add(24 * time.Hour).After(g.s.end) {
				continue // leave the last day's posts out so every comment is answered in the window
			}
			g.publish(a, ordinaryPhrase(g.r), pub)
		}
	}
	followers := int64(1000 + g.r.IntN(100000))
	rate := int64(20 + g.r.IntN(180)) // followers a day
	name, bio := a.Name, a.Name+"官方账号"
	for h := 0; h < days*24; h += 24 {
		at := Start.Add(time.Duration(h)*time.Hour + time.Duration(g.r.IntN(20))*time.Minute)
		f := followers + rate*int64(h)/24 + int64(g.r.IntN(int(rate/10)+1))
		if a.ID == rl.jump && at.After(day(jumpDay, 12, 0)) {
			f += 6000
		}
		if a.ID == rl.profile && at.After(day(profileDay, 10, 0)) {
			name = a.Name + "（新版）"
		}
		g.add(event{at: at, snap: &model.AccountSnapshot{Schema: 1, AccountID: a.ID, Platform: a.Platform, Name: name,
			AvatarHash: "sha256:avatar-" + a.ID, Bio: bio, Followers: f, Following: 12, TakenAt: at.UTC()}})
	}
	if a.Platform == "app" {
		for h := 0; h < days*24; h += 6 {
			at := Start.Add(time.Duration(h)*time.Hour + 5*time.Minute)
			ok := !(a.ID == rl.probe && !at.Before(day(probeDay, 0, 0)) && at.Before(day(probeDay+1, 0, 0)))
			r := &model.ProbeResult{Schema: 1, AccountID: a.ID, Platform: a.Platform, Target: "https://example.gov.cn/" + a.ID + "/app.apk",
				OK: ok, StatusCode: 200, Bytes: 1 << 20, LatencyMS: 120, CheckedAt: at.UTC()}
			if !ok {
				r.StatusCode, r.Bytes, r.Error = 503, 0, "HTTP 503"
			}
			g.add(event{at: at, probe: r})
		}
	}
}

func (g *generator) account(id string) *registry.Account {
	for i := range g.s.accounts {
		if g.s.accounts[i].ID == id {
			return &g.s.accounts[i]
		}
	}
	panic("replay: no account " + id)
}

// incidents adds the scripted incidents and what each must raise.
func (g *generator) incidents(rl roles, days int) {
	// A leak of a phone number and an ID number, edited away the next day.
	leak := g.newPost(g.account(rl.leak), model.KindPost, "", "",
		"关于春耕补贴的公示：申请人张某，联系电话13912345678，身份证号11010519491231002X，公示期五天。", day(leakDay, 9, 0))
	g.observe(leak, day(leakDay, 10, 0), model.Metrics{Likes: 3})
	leak.Text = "关于春耕补贴的公示：申请人张某，联系电话139****5678，身份证号110105********002X，公示期五天。"
	g.observe(leak, day(leakDay+1, 10, 0), model.Metrics{Likes: 5})
	g.expect("privacy.phone", rl.leak, "手机号码泄露，次日编辑删除", 1, 1)
	g.expect("privacy.id_number", rl.leak, "身份证号泄露，次日编辑删除", 1, 1)

	// Gambling spam injected into a title, deleted the next day.
	gamb := g.newPost(g.account(rl.gambling), model.KindPost, "", "真人百家乐官方网站注册送彩金", "点击进入，精彩不停。", day(gamblingDay, 3, 0))
	gone := g.observe(gamb, day(gamblingDay, 4, 0), model.Metrics{})
	del := *gone
	del.Deleted, del.CollectedAt = true, day(gamblingDay+1, 4, 0).UTC()
	g.add(event{at: day(gamblingDay+1, 4, 0), post: &del})
	g.expect("prohibited.gambling", rl.gambling, "标题被植入赌博广告，次日删除", 1, 1)

	// A post demanding likes; never corrected.
	forced := g.newPost(g.account(rl.forced), model.KindPost, "", "", "请全体干部职工务必为本条信息点赞转发，截图上报。", day(forcedDay, 9, 0))
	g.observe(forced, day(forcedDay, 10, 0), model.Metrics{Likes: 8})
	g.expect("engagement.forced", rl.forced, "强制要求点赞转发", 1, 0)

	// Fifteen silent days, then a post: reminder, veto, resolution.
	g.publish(g.account(rl.stale), ordinaryPhrase(g.r), day(staleLast, 10, 0))
	g.publish(g.account(rl.stale), ordinaryPhrase(g.r), day(staleBack, 10, 0))
	g.expect("account.stale_warning", rl.stale, "停更 15 天：10 天提醒，14 天转为否决", 1, 1)
	g.expect("account.stale", rl.stale, "停更 15 天后恢复更新", 1, 1)

	// Silent past 90 days, when the replay is that long.
	if days > zombieDays {
		g.expect("account.stale_warning", rl.zombie, "停更 90 天以上", 1, 1)
		g.expect("account.stale", rl.zombie, "停更 90 天以上", 1, 0)
		g.expect("account.zombie", rl.zombie, "停更 90 天以上", 1, 0)
	}

	// A comment left unanswered past five working days, answered late.
	ua := g.account(rl.unanswered)
	parent := g.newPost(ua, model.KindPost, "", "", ordinaryText(g.r), day(unansweredDay, 9, 0))
	g.observe(parent, day(unansweredDay, 10, 0), model.Metrics{Likes: 4, Comments: 1})
	c := g.newPost(ua, model.KindComment, parent.ID, "", "请问社保卡补办需要多久？", day(unansweredDay, 11, 0))
	g.observe(c, day(unansweredDay, 11, 20), model.Metrics{})
	rp := g.newPost(ua, model.KindReply, c.ID, "", "您好，补办约需五个工作日。", day(answerDay, 9, 0))
	g.observe(rp, day(answerDay, 9, 20), model.Metrics{})
	g.expect("interaction.unanswered", rl.unanswered, "留言超 5 个工作日未回复，后补答复", 1, 1)

	// Followers jump by 6,000 between two daily snapshots; the next day forgets it.
	g.expect("engagement.bought_followers", rl.jump, "粉丝一次性激增 6000", 1, 1)

	// The profile name changes; accepted after 7 days.
	g.expect("account.profile_changed", rl.profile, "账号名称变更，7 天后视为确认", 1, 1)

	// An app's download page fails for a day, then recovers.
	if rl.probe != "" {
		g.expect("account.unavailable", rl.probe, "应用下载页 24 小时内 4 次探测均失败后恢复", 1, 1)
	}

	// Same notice on two platforms of one unit, one date differs; the later
	// one is corrected the next day.
	a, b := g.account(rl.crossA), g.account(rl.crossB)
	pa := g.newPost(a, model.KindPost, "", "", "市民服务中心定于2026年3月20日起延长周末办理时间，上午九点至下午五点，欢迎群众前来办理业务。", day(crossDay, 9, 0))
	g.observe(pa, day(crossDay, 10, 0), model.Metrics{Likes: 6})
	pb := g.newPost(b, model.KindPost, "", "", "市民服务中心定于2026年3月21日起延长周末办理时间，上午九点至下午五点，欢迎群众前来办理业务。", day(crossDay, 13, 0))
	g.observe(pb, day(crossDay, 14, 0), model.Metrics{Likes: 5})
	pb.Text = pa.Text
	g.observe(pb, day(crossDay+1, 14, 0), model.Metrics{Likes: 7})
	g.expect("consistency.cross_platform", rl.crossB, "两平台同一通知日期不一致，次日更正", 1, 1)

	// A post takes off: 3,000 interactions within an hour, then calms down.
	sp := g.newPost(g.account(rl.spike), model.KindPost, "", "", ordinaryText(g.r), day(spikeDay, 9, 0))
	g.observe(sp, day(spikeDay, 10, 0), model.Metrics{Likes: 8, Comments: 1, Shares: 1})
	g.observe(sp, day(spikeDay, 11, 0), model.Metrics{Likes: 2508, Comments: 301, Shares: 201})
	g.observe(sp, day(spikeDay, 14, 0), model.Metrics{Likes: 2515, Comments: 303, Shares: 202})
	g.expect("opinion.spike", rl.spike, "单条信息互动量一小时内激增（信息与账号两级）", 2, 2)
}

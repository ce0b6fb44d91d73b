package simulate

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

// Post is one generated post of an account.
type Post struct {
	ID        string
	URL       string
	Title     string
	HTML      string // body as simple HTML paragraphs
	Author    string
	Published time.Time
	Upvotes   int64
	Comments  int64
	Incident  string // "", "gambling_spam", "privacy_leak" or "illegal_link"
}

// Incident names carried in Post.Incident.
const (
	IncidentGamblingSpam = "gambling_spam"
	IncidentPrivacyLeak  = "privacy_leak"
	IncidentIllegalLink  = "illegal_link"
)

// titlePrefixes and titleSubjects make ordinary government post titles.
var titlePrefixes = []string{"【通知公告】", "【便民服务】", "【政策解读】", "【政务动态】", "【权威发布】", "【民生关注】", "【办事指南】", ""}

var titleSubjects = []string{
	"关于做好近期防汛防台风工作的通知",
	"社会保障卡线上申领流程指南",
	"一图读懂《优化营商环境若干措施》",
	"2026年城乡居民医保参保缴费开始啦",
	"全市中小学秋季学期招生入学工作安排",
	"公积金提取业务实现“跨省通办”",
	"关于开展安全生产大检查的公告",
	"新版不动产登记服务指南发布",
	"市民热线12345本周办理情况通报",
	"关于调整部分公交线路的公告",
	"老年人优待证办理指南",
	"高温天气防暑降温健康提示",
	"政府信息公开工作年度报告",
	"惠企政策“免申即享”清单公布",
	"关于征求《城市绿化管理办法》意见的公告",
	"全市重点项目建设推进会召开",
}

var bodySentences = []string{
	"为进一步提升政务服务效能，方便群众办事，现将有关事项通知如下。",
	"群众可通过“闽政通”APP或政务服务网在线办理，实现“一网通办”。",
	"请广大市民朋友相互转告，合理安排出行。",
	"本次政策自发布之日起施行，有效期五年。",
	"各级各部门要高度重视，压实责任，确保各项措施落地见效。",
	"办理时间为工作日上午8:30至12:00，下午14:30至17:30。",
	"如有疑问，可拨打12345政务服务便民热线咨询。",
	"下一步，我们将持续优化服务流程，不断提升群众满意度。",
	"符合条件的申请人须携带本人有效身份证件到窗口办理。",
	"此次活动旨在推动惠民政策直达基层、直达群众。",
	"会议强调，要坚持以人民为中心的发展思想，办好民生实事。",
	"详情请关注本账号后续发布。",
}

// gamblingSpam is the kind of line a breached site gets glued to its titles.
var gamblingSpam = []string{
	"_澳门威尼斯人官方网站_365体育投注手机版",
	"_欧洲杯比赛投注_bet365官方入口",
	"-澳门新葡京娱乐场-真人百家乐在线",
}

// leakRegions are Fujian region codes for the leaked ID numbers.
var leakRegions = []string{"350102", "350103", "350104", "350203", "350702"}

// posts returns the account's visible posts at now, newest first.
func (s *Server) posts(a *AccountScenario, now time.Time) []Post {
	today := dayIndex(now.In(calendar.Shanghai))
	startDay := dayIndex(s.start.In(calendar.Shanghai))
	cutoff := now
	firstDay := today - int64(a.HistoryDays) + 1
	var out []Post
	if a.Incidents.SilentDays > 0 {
		// The account's last post, then nothing: the grid stops strictly
		// before it, so it is the newest of the feed.
		last := s.lastPostOf(a)
		cutoff = last.Published.Add(-time.Nanosecond)
		firstDay -= int64(a.Incidents.SilentDays)
		if !last.Published.After(now) {
			out = append(out, last)
		}
	}
	lastDay := dayIndex(cutoff.In(calendar.Shanghai))
	for day := lastDay; day >= firstDay; day-- {
		var ps []Post
		for k := range a.PostsPerDay {
			ps = append(ps, s.ordinaryPost(a, day, k))
		}
		if inj := a.Incidents.GamblingSpam; inj != nil && day == startDay-int64(inj.DaysAgo) {
			ps = append(ps, s.gamblingPost(a, day))
		}
		if inj := a.Incidents.PrivacyLeak; inj != nil && day == startDay-int64(inj.DaysAgo) {
			ps = append(ps, s.leakPost(a, day))
		}
		if inj := a.Incidents.IllegalLink; inj != nil && day == startDay-int64(inj.DaysAgo) {
			ps = append(ps, s.linkPost(a, day))
		}
		for _, p := range ps {
			if !p.Published.After(cutoff) {
				out = append(out, p)
			}
		}
	}
	sortNewestFirst(out)
	return out
}

// lastPost is when a silent account's newest post went out.
func (s *Server) lastPost(a *AccountScenario) time.Time {
	return s.start.Add(-time.Duration(a.Incidents.SilentDays) * 24 * time.Hour)
}

// lastPostOf is a silent account's newest post: an ordinary post placed at
// lastPost, its text drawn from its own slot.
func (s *Server) lastPostOf(a *AccountScenario) Post {
	at := s.lastPost(a)
	r := s.rng(a.ID, dayIndex(at.In(calendar.Shanghai)), "last")
	return ordinaryText(s.newPost(a, r, at), r)
}

// dayIndex numbers days on the Beijing-time grid.
func dayIndex(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// dayStart is midnight Beijing time of day index day.
func dayStart(day int64) time.Time {
	u := time.Unix(day*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, calendar.Shanghai)
}

// rng returns the generator for one slot of one account's day grid. It
// depends only on the seed, the account and the slot, never on the clock.
func (s *Server) rng(accountID string, day int64, slot string) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%s", accountID, day, slot)
	return rand.New(rand.NewPCG(uint64(s.sc.Seed), h.Sum64()))
}

// postID is a 16-digit number, like a platform's native post id.
func postID(r *rand.Rand) string {
	return strconv.FormatUint(1e15+r.Uint64N(9e15), 10)
}

func (s *Server) newPost(a *AccountScenario, r *rand.Rand, published time.Time) Post {
	id := postID(r)
	return Post{
		ID:        id,
		URL:       fmt.Sprintf("%s/%s/%s", s.sc.LinkBase, a.ID, id),
		Author:    a.Author,
		Published: published,
		Upvotes:   r.Int64N(500),
		Comments:  r.Int64N(60),
	}
}

// ordinaryPost is slot k of a day: published between 08:00 and 21:59.
func (s *Server) ordinaryPost(a *AccountScenario, day int64, k int) Post {
	r := s.rng(a.ID, day, "post"+strconv.Itoa(k))
	minute := 8*60 + r.IntN(14*60)
	return ordinaryText(s.newPost(a, r, dayStart(day).Add(time.Duration(minute)*time.Minute)), r)
}

// ordinaryText gives p an ordinary government title and body drawn from r.
func ordinaryText(p Post, r *rand.Rand) Post {
	p.Title = titlePrefixes[r.IntN(len(titlePrefixes))] + titleSubjects[r.IntN(len(titleSubjects))]
	p.HTML = paragraphs(r, 2+r.IntN(3))
	return p
}

func (s *Server) gamblingPost(a *AccountScenario, day int64) Post {
	r := s.rng(a.ID, day, IncidentGamblingSpam)
	p := s.newPost(a, r, dayStart(day).Add(9*time.Hour+30*time.Minute))
	p.Title = titleSubjects[r.IntN(len(titleSubjects))] + gamblingSpam[r.IntN(len(gamblingSpam))]
	p.HTML = paragraphs(r, 2)
	p.Incident = IncidentGamblingSpam
	return p
}

func (s *Server) leakPost(a *AccountScenario, day int64) Post {
	r := s.rng(a.ID, day, IncidentPrivacyLeak)
	p := s.newPost(a, r, dayStart(day).Add(9*time.Hour+30*time.Minute))
	phone, id := fakePhone(r), fakeIDNumber(r)
	p.Title = "【通知公告】关于领取2026年度困难群众补助金的公示"
	p.HTML = "<p>" + bodySentences[0] + "</p><p>经审核，以下人员符合领取条件：王某某，联系电话" + phone +
		"，身份证号" + id + "，请于本月内到社区服务中心办理。</p>" + paragraphs(r, 1)
	p.Incident = IncidentPrivacyLeak
	return p
}

// linkPost is an ordinary notice whose body a hacked page has given a
// link to a gambling site, pushed off-screen so readers do not see it.
func (s *Server) linkPost(a *AccountScenario, day int64) Post {
	r := s.rng(a.ID, day, IncidentIllegalLink)
	p := s.newPost(a, r, dayStart(day).Add(10*time.Hour+15*time.Minute))
	p.Title = titlePrefixes[r.IntN(len(titlePrefixes))] + titleSubjects[r.IntN(len(titleSubjects))]
	p.HTML = paragraphs(r, 2) + `<div style="position:absolute;left:-9999px"><a href="https://www.yabo-vip.bet/register">亚博体育官网</a></div>`
	p.Incident = IncidentIllegalLink
	return p
}

func paragraphs(r *rand.Rand, n int) string {
	var b strings.Builder
	for _, i := range r.Perm(len(bodySentences))[:n] {
		b.WriteString("<p>")
		b.WriteString(bodySentences[i])
		b.WriteString("</p>")
	}
	return b.String()
}

// fakePhone is a mainland mobile number on the 139 prefix.
func fakePhone(r *rand.Rand) string {
	return fmt.Sprintf("139%08d", r.IntN(1e8))
}

// fakeIDNumber is an 18-digit citizen ID number (GB 11643-1999) with a Fujian
// region code, a real birth date and a valid check digit.
func fakeIDNumber(r *rand.Rand) string {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(40*365))
	body := fmt.Sprintf("%s%s%03d", leakRegions[r.IntN(len(leakRegions))], birth.Format("20060102"), r.IntN(1000))
	return body + string(idCheckDigit(body))
}

// idCheckDigit computes the ISO 7064 MOD 11-2 check character of the first
// 17 digits of a citizen ID number.
func idCheckDigit(body17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

package textscan

import (
	"strings"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// Injected SEO spam as a structure. A hacked government page carries
// keyword-stuffed segments glued to its title — 关于开展安全生产检查的通知_
// 亚博体育app下载官方入口_开云kaiyun登录 — whose brands are respelt from
// one injection to the next, so no term list keeps up. What does not change
// is the shape: short commercial fragments (官网, 手机版, 入口, 开户 …),
// gambling or porn fragments, lucky numbers (365, 888) and brand-like Latin
// words, several of them within a few characters, glued by _ | - or spaces.
// Each fragment is a signal term of the trie; where two or more signals
// stand close together the region around them is scored.

// RuleSEOSpam is the rule of a keyword-stuffed segment.
const RuleSEOSpam = "structure.seo_spam"

// Kinds of spam signal. The weak ones are ordinary words of government
// pages too (体育局, 福利彩票, 国产大飞机): they add to a score but never
// make one.
const (
	sigCommerce = iota // 官网, 下载, 入口: alone, what any service page says
	sigGambling
	sigGamblingWeak
	sigPorn
	sigPornWeak
	sigNumber // 365, 888: the numbers gambling brands are named with
	sigKinds
)

// spamSignals are the fragments injected spam is built of. The commercial
// ones are ordinary words of government pages (政务服务网官方网站 | APP下载 |
// 注册登录入口): they only count next to gambling or porn ones.
var spamSignals = [sigKinds][]string{
	sigCommerce: {"官网", "官方", "手机版", "网页版", "客户端", "下载", "入口", "注册", "开户", "平台", "网址", "登录", "登陆",
		"首页", "在线", "app", "最新", "地址", "导航", "链接", "推荐", "第一品牌", "信誉", "靠谱", "正规", "排名", "十大"},
	sigGambling: {"投注", "下注", "娱乐城", "娱乐场", "彩金", "百家乐", "老虎机", "电子游艺", "博彩", "赌场", "盘口", "赔率",
		"返水", "时时彩", "六合彩", "快三", "pk10", "威尼斯人", "葡京", "金沙", "永利", "太阳城", "亚博", "开云", "九游",
		"华体会", "乐鱼", "米乐", "必威", "威廉希尔", "爱游戏", "万博", "bet365", "365bet", "188bet", "1xbet", "12bet",
		"betway", "dafabet", "kaiyun", "yabo", "leyu", "hth", "jiuyou", "ayx", "bbin", "sunbet", "williamhill", "bwin", "必赢",
		"欧宝", "德州扑克", "德扑", "bandao", "澳门银河", "注册送", "首存"},
	sigGamblingWeak: {"娱乐", "真人", "棋牌", "捕鱼", "外围", "彩票", "体育", "电竞", "竞彩", "皇冠", "银河", "半岛", "星空",
		"bet", "bob", "ag", "j9", "pg", "ob"},
	sigPorn: {"一区", "二区", "三区", "无码", "有码", "麻豆", "av", "偷拍", "人妻", "少妇", "伦理片", "成人视频", "成人影院",
		"人妖", "白浆", "狠狠", "乱伦", "乱子伦"},
	sigPornWeak: {"国产", "在线观看", "免费观看", "日韩", "欧美", "亚洲", "精品", "高清", "成人", "午夜", "福利", "自拍",
		"视频", "影院", "伦理", "激情", "91", "在线播放", "久久", "美女"},
	sigNumber: {"365", "888", "188", "999", "777", "666", "8888", "9999", "3377", "5555", "2288"},
}

// spamWarnings are the words of posts that fight what spam sells (严厉打击
// 网络赌博, 警惕“百家乐”诈骗): a region in their sentence is a warning, not
// an injection.
var spamWarnings = []string{"打击", "严打", "警惕", "谨防", "切勿", "不要", "防范", "诈骗", "违法", "犯罪", "举报", "提醒",
	"揭露", "反诈", "公安", "民警", "查处", "取缔", "整治", "远离", "涉赌", "涉黄", "扫黄"}

// spamBrands are the Latin brand names respelt in injections (b3t365,
// 8et365, kai-yun): a Latin word of the region within one edit of one,
// digits read as the letters they imitate, is a gambling signal.
var spamBrands = []string{"bet365", "365bet", "188bet", "1xbet", "betway", "dafabet", "kaiyun", "williamhill", "jiuyou", "leyu", "yabo", "sunbet", "pinnacle", "bandao"}

// spamSignal is a signal the walk passed: its kind, where it stands and
// its text folded.
type spamSignal struct {
	kind, at, end int
	text          string
}

// spamSeparators glue injected segments to a title and to each other.
const spamSeparators = "_|｜丨-—–·•/"

// spamReach is how far apart, in bytes, two signals may stand in one
// region (about 25 Chinese characters).
const spamReach = 75

// resolveSpam scores the regions where signals stand close together.
func (e *Engine) resolveSpam(sc *scratch, text string) {
	// Of overlapping signals (在线, 在线观看) the longest counts.
	sigs := sc.spam[:0]
	for _, s := range sc.spam {
		if n := len(sigs); n > 0 && s.at < sigs[n-1].end {
			if s.end-s.at > sigs[n-1].end-sigs[n-1].at {
				sigs[n-1] = s
			}
			continue
		}
		sigs = append(sigs, s)
	}
	for i := 0; i < len(sigs); {
		j := i + 1
		for j < len(sigs) && sigs[j].at-sigs[j-1].end <= spamReach && !strings.Contains(text[sigs[j-1].end:sigs[j].at], "\n") {
			j++
		}
		if j-i >= 2 {
			e.scoreSpam(sc, text, sigs[i:j])
		}
		i = j
	}
}

// scoreSpam decides whether the region of the signals sigs is injected
// spam, and of which kind.
func (e *Engine) scoreSpam(sc *scratch, text string, sigs []spamSignal) {
	start, end := spamBounds(text, sigs[0].at, sigs[len(sigs)-1].end)
	region := text[start:end]
	distinct := map[string]bool{}
	var count [sigKinds]int
	for _, s := range sigs {
		if distinct[s.text] {
			continue
		}
		distinct[s.text] = true
		count[s.kind]++
	}
	for _, w := range latinWords(region) {
		if !distinct[w] && respeltBrand(w) {
			distinct[w] = true
			count[sigGambling]++
		}
	}
	glued := strings.ContainsAny(region, spamSeparators) ||
		start > 0 && strings.ContainsAny(text[max(0, start-3):start], spamSeparators) ||
		end < len(text) && strings.ContainsAny(text[end:min(len(text), end+3)], spamSeparators)
	score := len(distinct)
	if glued {
		score++
	}
	// A brand glued to a commercial word (威尼斯人官网, williamhill官网) is
	// an advertisement whatever stands around it.
	glu := false
	for k := 1; k < len(sigs); k++ {
		if sigs[k].at == sigs[k-1].end && sigs[k-1].kind == sigGambling && sigs[k].kind == sigCommerce {
			glu = true
		}
	}
	if glu {
		score = max(score, 4)
	}
	gambling := count[sigGambling] + count[sigGamblingWeak]
	porn := count[sigPorn] + count[sigPornWeak]
	var category string
	switch {
	case count[sigGambling] >= 1 && gambling >= porn && (count[sigCommerce]+count[sigNumber] >= 1 && score >= 4 || count[sigCommerce] >= 2):
		category = model.CategoryProhibitedGambling
	case count[sigPorn] >= 1 && porn >= 2 && score >= 4, porn >= 4 && score >= 4:
		category = model.CategoryProhibitedPorn
	default:
		return
	}
	if warning(text, start, end) {
		return
	}
	// The region is the evidence: lexicon terms of its category inside it
	// (365体育) would only say part of it again.
	kept := sc.hits[:0]
	for _, h := range sc.hits {
		if h.term < 0 || h.start < start || h.end > end || e.terms[h.term].Category != category {
			kept = append(kept, h)
		}
	}
	sc.hits = kept
	sc.hits = append(sc.hits, hit{start: start, end: end, term: -1, f: Finding{
		Category: category, Severity: model.DefaultSeverity(category), Rule: RuleSEOSpam,
		Suggestion: suggestProhibited,
	}})
	sc.unsorted = true
}

// warning reports whether the sentence around start..end warns against
// what the region names. The sentence ends at the separators injections
// are glued with, so an official title (城乡环境综合整治方案) does not
// excuse the segment glued to it.
func warning(text string, start, end int) bool {
	const stops = "。！？!?\n_|｜丨"
	from, to := start, end
	for n := 0; from > 0 && n < 60; n++ {
		r, w := utf8.DecodeLastRuneInString(text[:from])
		if strings.ContainsRune(stops, r) {
			break
		}
		from -= w
	}
	for n := 0; to < len(text) && n < 60; n++ {
		r, w := utf8.DecodeRuneInString(text[to:])
		if strings.ContainsRune(stops, r) {
			break
		}
		to += w
	}
	sentence := text[from:to]
	for _, w := range spamWarnings {
		if strings.Contains(sentence, w) {
			return true
		}
	}
	return false
}

// spamBounds widens the signals' span from..to to the segment holding
// them: back and forth to a separator, clause punctuation, a line break,
// or 20 characters.
func spamBounds(text string, from, to int) (int, int) {
	stop := func(r rune) bool {
		return strings.ContainsRune(spamSeparators, r) || strings.ContainsRune("，。；！？,;!?\n\r\t（）()【】[]《》“”\"", r)
	}
	for n := 0; from > 0 && n < 20; n++ {
		r, w := utf8.DecodeLastRuneInString(text[:from])
		if stop(r) {
			break
		}
		from -= w
	}
	for n := 0; to < len(text) && n < 20; n++ {
		r, w := utf8.DecodeRuneInString(text[to:])
		if stop(r) {
			break
		}
		to += w
	}
	return from, to
}

// latinWords are the runs of ASCII letters and digits of s, lower case,
// that hold a letter.
func latinWords(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := i
		letter := false
		for j < len(s) && isASCIIAlnum(s[j]) {
			letter = letter || isASCIILetter(rune(s[j]))
			j++
		}
		if j > i && letter {
			out = append(out, strings.ToLower(s[i:j]))
		}
		if j == i {
			j++
		}
		i = j
	}
	return out
}

// respeltBrand reports whether w is a gambling brand with at most one
// character changed, added or dropped, reading 3 as e, 0 as o, 1 as i, 8
// as b and 4 as a.
func respeltBrand(w string) bool {
	if len(w) < 4 {
		return false
	}
	leet := unleet.Replace(w)
	for i, b := range spamBrands {
		if editsWithinOne(w, b) || editsWithinOne(leet, leetBrands[i]) {
			return true
		}
	}
	return false
}

// unleet reads the digits respelt brands put for letters as those letters.
var unleet = strings.NewReplacer("3", "e", "0", "o", "1", "i", "8", "b", "4", "a")

// leetBrands are spamBrands read through unleet, worked out once.
var leetBrands = func() []string {
	out := make([]string, len(spamBrands))
	for i, b := range spamBrands {
		out[i] = unleet.Replace(b)
	}
	return out
}()

// editsWithinOne reports whether a becomes b by at most one insertion,
// deletion or substitution.
func editsWithinOne(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return i == len(a) || a[i+1:] == b[i+1:]
	}
	return a[i:] == b[i+1:]
}

// spamEntries are the signal terms to put in the trie, each with its kind.
func spamEntries() ([]Entry, []int) {
	var entries []Entry
	var kinds []int
	for kind := range sigKinds {
		for _, t := range spamSignals[kind] {
			entries = append(entries, Entry{Term: t, Category: model.CategoryProhibitedGambling, Severity: model.SeverityMinor, File: "spam.go", Line: 1})
			kinds = append(kinds, kind)
		}
	}
	return entries, kinds
}

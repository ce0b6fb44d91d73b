package textscan

import (
	"slices"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// RuleForcedEngagement is the rule of engagement.forced findings.
const RuleForcedEngagement = "validator.forced_engagement"

// Words of the forced-engagement rule: an action people are made to take
// on a post, and the coercion around it. 关注 alone is also "pay attention
// to" (务必关注天气变化), so with 务必/必须 it needs an account word nearby.
var (
	engageActions  = []string{"点赞", "转发", "在看", "集赞", "关注", "分享朋友圈", "分享到朋友圈"}
	engageCoercion = []string{"务必", "必须", "一律", "统计", "截图", "纳入考核", "考核", "强制", "全员", "每人至少", "不少于", "通报"}
	engageStrict   = []string{"统计", "截图", "纳入考核", "考核", "强制", "全员"}
	engageAccounts = []string{"公众号", "账号", "本号", "微信号", "抖音号", "视频号", "微博"}
)

// suggestForced is the suggestion of every engagement.forced finding.
const suggestForced = "删除强制点赞、转发、关注等要求，互动应出于自愿"

// engageWindow is how many characters may separate the coercion from the
// action, inside one clause.
const engageWindow = 12

// triggerEntries are the lexicon entries that make the matcher call
// forcedEngagement.
func triggerEntries() []Entry {
	out := make([]Entry, 0, len(engageActions))
	for _, a := range engageActions {
		out = append(out, Entry{Category: model.CategoryEngagementForced, Severity: model.DefaultSeverity(model.CategoryEngagementForced), Term: a, File: "built-in"})
	}
	return out
}

// forcedEngagement looks around the action word matched by h for coercion
// in the same clause. It returns the hit spanning both, or false.
func forcedEngagement(text string, h hit) (hit, bool) {
	// The clause around the action, at most engageWindow characters each side.
	lo := h.start
	for n := 0; n < engageWindow && lo > 0; n++ {
		r, w := utf8.DecodeLastRuneInString(text[:lo])
		if clauseEnd(r) {
			break
		}
		lo -= w
	}
	hi := h.end
	for n := 0; n < engageWindow && hi < len(text); n++ {
		r, w := utf8.DecodeRuneInString(text[hi:])
		if clauseEnd(r) {
			break
		}
		hi += w
	}
	// Fold the window, remembering each character's byte offset.
	var rs []rune
	var at []int
	for i, r := range text[lo:hi] {
		c, class := fold(r)
		if class == classDrop {
			continue
		}
		rs = append(rs, c)
		at = append(at, lo+i)
	}
	action := string(foldString(text[h.start:h.end]))
	coercion := engageCoercion
	if action == "关注" {
		coercion = engageStrict
		if hasAny(rs, engageAccounts) {
			coercion = engageCoercion
		}
	}
	best, bestEnd := -1, -1
	for _, w := range coercion {
		wr := []rune(w)
		if i := indexRunes(rs, wr); i >= 0 && (best < 0 || at[i] < best) {
			best = at[i]
			last := at[i+len(wr)-1]
			_, sz := utf8.DecodeRuneInString(text[last:])
			bestEnd = last + sz
		}
	}
	if best < 0 {
		return h, false
	}
	f := Finding{
		Category:   model.CategoryEngagementForced,
		Severity:   model.DefaultSeverity(model.CategoryEngagementForced),
		Rule:       RuleForcedEngagement,
		Suggestion: suggestForced,
	}
	return hit{start: min(best, h.start), end: max(bestEnd, h.end), term: -1, f: f}, true
}

func foldString(s string) []rune {
	var rs []rune
	for _, r := range s {
		if c, class := fold(r); class != classDrop {
			rs = append(rs, c)
		}
	}
	return rs
}

func hasAny(rs []rune, words []string) bool {
	for _, w := range words {
		if indexRunes(rs, []rune(w)) >= 0 {
			return true
		}
	}
	return false
}

// indexRunes is the index of the first w in rs, or -1.
func indexRunes(rs, w []rune) int {
	for i := 0; i+len(w) <= len(rs); i++ {
		if slices.Equal(rs[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

// clauseEnd reports whether r ends a clause.
func clauseEnd(r rune) bool {
	switch r {
	case '\n', '\r', '。', '！', '？', '；', '!', '?', ';', '.':
		return true
	}
	return false
}

package textscan

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// Leaders (leaders.txt) are the state's leaders with the titles each holds.
// Two errors of inspection notices are checked where a name and a title
// stand together: another leader's title next to a name (国务院副总理李强),
// and a name misspelt by sound or shape right after one of its titles
// (国务院总理李墙). Names and titles are anchor terms, so only texts that
// hold one are read again.

// leader is a leaders.txt entry as the checker compares it.
type leader struct {
	entry  Entry
	name   []rune // folded
	titles map[string]bool
}

// title is a title some leaders hold.
type title struct {
	holders []int32 // indexes into soundMatcher.leaders
}

// maxTitle is the longest title in characters the checker looks for next
// to a name.
const maxTitle = 12

// addLeaders prepares the leaders and registers their names and titles as
// anchors.
func (m *soundMatcher) addLeaders(entries []Entry, anchor func(string, Entry, anchorRef)) {
	titleOf := map[string]int32{}
	for _, p := range entries {
		name, ok := foldChars(p.Term)
		if !ok || len(name) < 2 {
			continue
		}
		l := leader{entry: p, name: name, titles: map[string]bool{}}
		li := int32(len(m.leaders))
		for _, t := range strings.Split(p.Note, "、") {
			rs, ok := foldChars(t)
			if !ok || len(rs) < 2 || len(rs) > maxTitle {
				continue
			}
			key := string(rs)
			l.titles[key] = true
			ti, seen := titleOf[key]
			if !seen {
				ti = int32(len(m.titles))
				titleOf[key] = ti
				m.titles = append(m.titles, title{})
				anchor(key, p, anchorRef{title: ti + 1})
			}
			m.titles[ti].holders = append(m.titles[ti].holders, li)
		}
		m.leaders = append(m.leaders, l)
		anchor(string(name), p, anchorRef{leader: li + 1})
	}
	m.titleOf = titleOf
}

// titleBefore returns the longest title of any leader that ends at byte i,
// with its byte start, or "".
func (m *soundMatcher) titleBefore(text string, i int) (string, int) {
	// The characters before i, nearest first, as far as a title reaches.
	var chars []rune
	var at []int
	for j := i; j > 0 && len(chars) < maxTitle; {
		r, w := utf8.DecodeLastRuneInString(text[:j])
		j -= w
		c, class := fold(r)
		if class == classDrop {
			continue
		}
		if class != classChar {
			break
		}
		chars, at = append(chars, c), append(at, j)
	}
	for n := len(chars); n >= 2; n-- {
		key := reversed(chars[:n])
		if _, ok := m.titleOf[string(key)]; ok {
			return string(key), at[n-1]
		}
	}
	return "", -1
}

// titleAfter returns the longest title of any leader that starts at byte
// i, with its byte end, or "".
func (m *soundMatcher) titleAfter(text string, i int) (string, int) {
	var sp textSpan
	for n := maxTitle; n >= 2; n-- {
		if read(text, i, n, &sp) {
			if _, ok := m.titleOf[string(sp.chars)]; ok {
				return string(sp.chars), sp.at[n]
			}
		}
	}
	return "", -1
}

// checkLeaderTitle reports a title of another leader right before or after
// the name l standing at bytes at..end.
func (e *Engine) checkLeaderTitle(sc *scratch, text string, at, end int, l *leader) {
	m := e.sound
	title, start := m.titleBefore(text, at)
	stop := end
	if title == "" {
		title, stop = m.titleAfter(text, end)
		start = at
	}
	if title == "" || l.titles[title] {
		return
	}
	e.reportLeader(sc, start, stop, l, "职务表述有误：")
}

// checkLeaderName reports a name misspelt by sound or shape right after a
// title, standing for the leader who holds it.
func (e *Engine) checkLeaderName(sc *scratch, text string, end int, t *title) {
	m := e.sound
	var sp textSpan
	for _, li := range t.holders {
		l := &m.leaders[li]
		if !read(text, end, len(l.name), &sp) || slices.Equal(sp.chars, l.name) {
			continue
		}
		diff := 0
		for i, c := range sp.chars {
			if c == l.name[i] {
				continue
			}
			if diff++; diff > 1 || !m.alikeChars(c, l.name[i]) {
				diff = -1
				break
			}
		}
		if diff != 1 || slices.ContainsFunc(m.leaders, func(o leader) bool { return slices.Equal(o.name, sp.chars) }) {
			continue
		}
		e.reportLeader(sc, end, sp.at[len(l.name)], l, "人名有误：")
	}
}

func (e *Engine) reportLeader(sc *scratch, start, end int, l *leader, what string) {
	if e.covered(sc.hits, start, end) {
		return
	}
	main, _, _ := strings.Cut(l.entry.Note, "、")
	sc.hits = append(sc.hits, hit{start: start, end: end, term: -1, f: Finding{
		Category: model.CategoryWordingSerious, Severity: l.entry.Severity, Rule: l.entry.Term,
		Suggestion: what + "应为“" + main + l.entry.Term + "”",
	}})
	sc.unsorted = true
}

// alikeChars reports whether c may be written for want: a shared loose
// reading or a confusable pair.
func (m *soundMatcher) alikeChars(c, want rune) bool {
	if m.confusing[[2]rune{c, want}] {
		return true
	}
	for _, r := range readings(c) {
		if slices.Contains(readings(want), r) {
			return true
		}
	}
	return false
}

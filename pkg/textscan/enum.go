package textscan

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// Enumerations (enumerations.txt) are formulations whose members are fixed:
// 四个自信 is 道路自信、理论自信、制度自信、文化自信. A text that names one
// and then lists its members — right after the name, behind a colon, 即 or
// a bracket — must list exactly those. A listed item that looks like a
// member (it shares the members' common head or tail, or their length when
// they have none) and is not one is a finding; so is a list that names
// every member but one and ends there.

// enumeration is an enumerations.txt entry as the checker compares it.
type enumeration struct {
	entry   Entry
	name    []rune   // folded
	members []string // folded
	head    string   // the members' common beginning (two or more characters), or ""
	tail    string   // their common ending, or ""
	// shortest and longest are the members' lengths in characters.
	shortest, longest int
}

func newEnumeration(p Entry) (enumeration, bool) {
	name, ok := foldChars(p.Term)
	if !ok || len(name) < 2 {
		return enumeration{}, false
	}
	en := enumeration{entry: p, name: name}
	for _, m := range strings.Split(p.Note, "、") {
		rs, ok := foldChars(m)
		if !ok || len(rs) == 0 {
			return enumeration{}, false
		}
		en.members = append(en.members, string(rs))
	}
	first := []rune(en.members[0])
	head, tail := len(first), len(first)
	for _, m := range en.members[1:] {
		rs := []rune(m)
		head = min(head, commonPrefix(first, rs))
		tail = min(tail, commonPrefix(reversed(first), reversed(rs)))
	}
	if head >= 2 {
		en.head = string(first[:head])
	}
	if tail >= 2 {
		en.tail = string(first[len(first)-tail:])
	}
	en.shortest, en.longest = len(first), len(first)
	for _, m := range en.members {
		n := utf8.RuneCountInString(m)
		en.shortest, en.longest = min(en.shortest, n), max(en.longest, n)
	}
	return en, true
}

func commonPrefix(a, b []rune) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func reversed(rs []rune) []rune {
	out := slices.Clone(rs)
	slices.Reverse(out)
	return out
}

// memberLike reports whether a listed item reads as an attempt at one of
// the members: as long as they are, and sharing their common head or tail
// when they have one.
func (en *enumeration) memberLike(item string) bool {
	n := utf8.RuneCountInString(item)
	if n < en.shortest || n > en.longest {
		return false
	}
	switch {
	case en.head != "" || en.tail != "":
		return en.head != "" && strings.HasPrefix(item, en.head) && len(item) > len(en.head) ||
			en.tail != "" && strings.HasSuffix(item, en.tail) && len(item) > len(en.tail)
	case en.shortest == en.longest:
		return n == en.shortest
	}
	return false
}

// listItem is an item of a list in the text: folded, with its byte span
// and the byte offset of each of its characters.
type listItem struct {
	text       string
	start, end int
	at         []int
}

// Characters between an enumeration's name and its list, and between
// items; what ends a list.
const (
	enumLead  = "”’\"'》」』：:，,（(即是指为就包括—- "
	enumSep   = "、，,；;"
	enumJoin  = "和与及"
	enumEnd   = "。！？!?\n）)"
	enumReach = 60 // characters of list read after a name at the most
	enumHead  = 8  // characters of a head noun between a name and its colon
)

// readList reads the items listed from byte i: up to enumReach characters,
// split at 、，； and (between items) 和/与/及, stopping at a sentence end or
// a closing bracket. ended tells whether such an end was reached.
func readList(text string, i int) (items []listItem, ended bool) {
	// A head noun may stand between the name and its list: “五位一体”总体
	// 布局：…, 四个全面战略布局，即…
	for j, n := i, 0; j < len(text) && n < enumHead; n++ {
		r, w := utf8.DecodeRuneInString(text[j:])
		if r == '：' || r == ':' || r == '即' || (r == '，' || r == ',') && strings.HasPrefix(text[j+w:], "即") {
			i = j
			break
		}
		if strings.ContainsRune(enumEnd+"、，,", r) {
			break
		}
		j += w
	}
	for lead := 0; i < len(text) && lead < 4; lead++ {
		r, w := utf8.DecodeRuneInString(text[i:])
		if !strings.ContainsRune(enumLead, r) {
			break
		}
		i += w
	}
	var cur []rune
	var at []int
	last := i // the end of the item's last character
	flush := func() {
		if len(cur) > 0 {
			items = append(items, listItem{text: string(cur), start: at[0], end: last, at: at})
		}
		cur, at = nil, nil
	}
	for n := 0; i < len(text) && n < enumReach; n++ {
		r, w := utf8.DecodeRuneInString(text[i:])
		c, class := fold(r)
		switch {
		case strings.ContainsRune(enumEnd, r):
			flush()
			return items, true
		case strings.ContainsRune(enumSep, r):
			flush()
		case class == classChar && !strings.ContainsRune("“”‘’\"'《》「」", r):
			cur, at, last = append(cur, c), append(at, i), i+w
		}
		i += w
	}
	flush()
	return items, i >= len(text)
}

// split divides items glued by 和/与/及 ("制度自信和文化自信") where that
// gives member-like parts, keeping 和谐 and the like whole.
func (en *enumeration) split(items []listItem) []listItem {
	var out []listItem
	for _, it := range items {
		if slices.Contains(en.members, it.text) {
			out = append(out, it)
			continue
		}
		rs := []rune(it.text)
		done := false
		for k := 1; k+1 < len(rs) && !done; k++ {
			if !strings.ContainsRune(enumJoin, rs[k]) {
				continue
			}
			a, b := string(rs[:k]), string(rs[k+1:])
			if (slices.Contains(en.members, a) || en.memberLike(a)) && (slices.Contains(en.members, b) || en.memberLike(b)) {
				out = append(out,
					listItem{text: a, start: it.start, end: it.at[k], at: it.at[:k]},
					listItem{text: b, start: it.at[k+1], end: it.end, at: it.at[k+1:]})
				done = true
			}
		}
		if !done {
			out = append(out, it)
		}
	}
	return out
}

// checkEnumeration compares the list that follows the name standing at byte
// at with the enumeration's members.
func (e *Engine) checkEnumeration(sc *scratch, text string, at int, en *enumeration) {
	var sp textSpan
	if !read(text, at, len(en.name), &sp) {
		return
	}
	items, ended := readList(text, sp.at[len(en.name)])
	items = en.split(items)
	// The list is the run of member-like items from the first.
	n, right := 0, 0
	for n < len(items) && (slices.Contains(en.members, items[n].text) || en.memberLike(items[n].text)) {
		if slices.Contains(en.members, items[n].text) {
			right++
		}
		n++
	}
	list := items[:n]
	if right < 2 || right < len(en.members)/2 {
		return // not a listing of this enumeration
	}
	want := "“" + en.entry.Term + "”应为：" + en.entry.Note
	report := func(start, end int, suggestion string) {
		if e.covered(sc.hits, start, end) {
			return
		}
		sc.hits = append(sc.hits, hit{start: start, end: end, term: -1, f: Finding{
			Category: model.CategoryWordingSerious, Severity: en.entry.Severity, Rule: en.entry.Term, Suggestion: suggestion,
		}})
		sc.unsorted = true
	}
	wrong := false
	for _, it := range list {
		if !slices.Contains(en.members, it.text) {
			wrong = true
			report(it.start, it.end, want)
		}
	}
	if wrong || right != len(en.members)-1 || len(list) != right || !(ended || n < len(items)) {
		return
	}
	var missing []string
	for _, m := range en.members {
		if !slices.ContainsFunc(list, func(it listItem) bool { return it.text == m }) {
			missing = append(missing, m)
		}
	}
	report(list[0].start, list[len(list)-1].end, "缺少“"+strings.Join(missing, "、")+"”；"+want)
}

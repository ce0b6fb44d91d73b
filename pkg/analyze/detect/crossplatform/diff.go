package crossplatform

import (
	"unicode"
)

// Difference kinds, in the words people read.
const (
	KindNumber = "数字"
	KindDate   = "日期"
	KindPhone  = "电话"
	KindName   = "名称"
)

// Difference is one place where two versions of a text disagree.
type Difference struct {
	Kind string `json:"kind"`
	A    string `json:"a"`
	B    string `json:"b"`
}

// maxDiffRunes bounds the texts compared rune by rune (the diff is
// quadratic): posts that say the same thing differ early if at all.
const maxDiffRunes = 600

// Differences returns the substitutions between a and b that change a
// fact: a number, a date, a phone number or a short name. Text present on
// one side only (a platform's "阅读原文", a hashtag) is not a difference.
func Differences(a, b string) []Difference {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > maxDiffRunes {
		ra = ra[:maxDiffRunes]
	}
	if len(rb) > maxDiffRunes {
		rb = rb[:maxDiffRunes]
	}
	// Versions of one text share most of their beginning and end: only the
	// middle needs the quadratic longest common subsequence table.
	pre := 0
	for pre < len(ra) && pre < len(rb) && ra[pre] == rb[pre] {
		pre++
	}
	suf := 0
	for suf < len(ra)-pre && suf < len(rb)-pre && ra[len(ra)-1-suf] == rb[len(rb)-1-suf] {
		suf++
	}
	n, m := len(ra)-suf, len(rb)-suf
	w := m - pre + 1
	lcs := make([]int32, (n-pre+1)*w)
	at := func(i, j int) int32 { return lcs[(i-pre)*w+j-pre] }
	for i := n - 1; i >= pre; i-- {
		for j := m - 1; j >= pre; j-- {
			if ra[i] == rb[j] {
				lcs[(i-pre)*w+j-pre] = at(i+1, j+1) + 1
			} else {
				lcs[(i-pre)*w+j-pre] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	var out []Difference
	i, j := pre, pre
	for i < n || j < m {
		if i < n && j < m && ra[i] == rb[j] {
			i++
			j++
			continue
		}
		// A hunk: runs until both sides meet again.
		i0, j0 := i, j
		for i < n || j < m {
			if i < n && j < m && ra[i] == rb[j] {
				break
			}
			if i < n && (j == m || at(i+1, j) >= at(i, j+1)) {
				i++
			} else {
				j++
			}
		}
		if d, ok := classify(ra, rb, i0, i, j0, j); ok && (len(out) == 0 || out[len(out)-1] != d) {
			out = append(out, d)
		}
	}
	return out
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '０' && r <= '９' }

func isNumberPart(r rune) bool {
	return isDigit(r) || r == '.' || r == ':' || r == '：' || r == '-' || r == '/'
}

func isDateUnit(r rune) bool { return r == '年' || r == '月' || r == '日' || r == '号' }

// widen grows rs[i0:i1] to the whole number around it, with a date unit
// after it.
func widen(rs []rune, i0, i1 int) (int, int) {
	for i0 > 0 && isNumberPart(rs[i0-1]) {
		i0--
	}
	for i1 < len(rs) && isNumberPart(rs[i1]) {
		i1++
	}
	if i1 < len(rs) && isDateUnit(rs[i1]) {
		i1++
	}
	return i0, i1
}

// classify widens the hunk a[i0:i1] / b[j0:j1] to whole numbers and
// names its kind; a hunk that changes no fact is not reported.
func classify(a, b []rune, i0, i1, j0, j1 int) (Difference, bool) {
	hasDigit := func(rs []rune) bool {
		for _, r := range rs {
			if isDigit(r) {
				return true
			}
		}
		return false
	}
	if hasDigit(a[i0:i1]) || hasDigit(b[j0:j1]) {
		i0, i1 = widen(a, i0, i1)
		j0, j1 = widen(b, j0, j1)
		sa, sb := a[i0:i1], b[j0:j1]
		kind := KindNumber
		switch {
		case longestDigitRun(sa) >= 7 || longestDigitRun(sb) >= 7:
			kind = KindPhone
		case containsFunc(sa, isDateUnit) || containsFunc(sb, isDateUnit):
			kind = KindDate
		}
		return Difference{Kind: kind, A: string(sa), B: string(sb)}, true
	}
	sa, sb := a[i0:i1], b[j0:j1]
	if len(sa) == 0 || len(sb) == 0 {
		return Difference{}, false // words on one side only
	}
	if !allHan(sa) || !allHan(sb) || len(sa) > 4 || len(sb) > 4 {
		return Difference{}, false
	}
	// A changed character of a name reads better with its neighbours.
	if len(sa) == 1 && len(sb) == 1 {
		if i0 > 0 && j0 > 0 && unicode.Is(unicode.Han, a[i0-1]) {
			i0--
			j0--
		}
		if i1 < len(a) && j1 < len(b) && unicode.Is(unicode.Han, a[i1]) {
			i1++
			j1++
		}
	}
	return Difference{Kind: KindName, A: string(a[i0:i1]), B: string(b[j0:j1])}, true
}

func allHan(rs []rune) bool {
	for _, r := range rs {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return len(rs) > 0
}

func containsFunc(rs []rune, f func(rune) bool) bool {
	for _, r := range rs {
		if f(r) {
			return true
		}
	}
	return false
}

func longestDigitRun(rs []rune) int {
	best, cur := 0, 0
	for _, r := range rs {
		switch {
		case isDigit(r):
			cur++
		case r == '-' || r == ' ':
			// separators inside a phone number keep the run going
		default:
			cur = 0
		}
		best = max(best, cur)
	}
	return best
}

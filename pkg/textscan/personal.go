package textscan

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
)

// Rules reported by the personal-data validators.
const (
	RuleMobile   = "validator.mobile"
	RuleIDNumber = "validator.id_number"
	RuleBankCard = "validator.bank_card"
)

// maxSepRun is how many separator characters may stand between two digit
// groups of one number ("138 - 0013 - 8000" has three).
const maxSepRun = 3

// idWeights are the GB 11643 weights of the first 17 characters of a citizen
// ID number; the sum modulo 11 indexes idCheck.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheck = "10X98765432"

// ScanPersonalData finds unmasked mainland mobile numbers (privacy.phone) and
// citizen ID numbers with a valid check digit, birth date and province
// (privacy.id_number). It sees ASCII and full-width digits and tolerates the
// separators people put inside a number (spaces, '-', '－', '　'); a number
// glued to more digits, to ASCII letters or to a decimal point is part of
// something else (an order number, a statistic) and is not reported.
// Findings come in text order.
func ScanPersonalData(text string) []Finding {
	return scanPersonalData(text, time.Now())
}

// scanPersonalData is ScanPersonalData with the clock that bounds birth
// dates given explicitly.
func scanPersonalData(text string, now time.Time) []Finding {
	hits := scanPersonal(text, now, nil)
	if len(hits) == 0 {
		return nil // text without findings is read once, never validated
	}
	return finish(nil, text, utf8.ValidString(text), hits, make([]Finding, 0, len(hits)))
}

// scanPersonal appends a hit for every number in text to dst, in text
// order, with byte offsets; finish turns them into findings.
func scanPersonal(text string, now time.Time, dst []hit) []hit {
	y, m, d := now.In(calendar.Shanghai).Date()
	sc := digitScanner{text: text, today: y*10000 + int(m)*100 + d, out: dst}
	sc.scan()
	return sc.out
}

// group is a run of digits without separators inside a chunk.
type group struct {
	start, end int // byte offsets in the text
	d0, d1     int // its digit values are digits[d0:d1]
}

// digitScanner walks a text once, with byte comparisons only: the code
// point offsets and line numbers of its hits are left to finish.
type digitScanner struct {
	text  string
	today int // yyyymmdd in Beijing time

	digits []byte // digit values of the current chunk; 10 stands for X
	groups []group

	lastEnd int // byte offset after the last hit
	out     []hit
}

func (sc *digitScanner) scan() {
	s := sc.text
	for i := 0; i < len(s); {
		b := s[i]
		if b >= 0xE1 && b <= 0xEC && i+2 < len(s) && (uint16(s[i+1])|uint16(s[i+2])<<8)&0xC0C0 == 0x8080 {
			i += 3 // the lead byte of a CJK character: no digit starts here or in its tail
			continue
		}
		if b-'0' >= 10 && b != 0xEF {
			i++
			continue
		}
		if _, w := digitAt(s, i); w == 0 {
			i++
			continue
		}
		i = sc.chunk(i)
	}
}

// chunk reads the digit groups starting at i that separators join into one
// chunk, resolves them into findings and returns the byte offset after the
// chunk's last digit.
func (sc *digitScanner) chunk(i int) int {
	s := sc.text
	sc.digits = sc.digits[:0]
	sc.groups = sc.groups[:0]
	for {
		g := group{start: i, d0: len(sc.digits)}
		for i < len(s) {
			v, w := digitAt(s, i)
			if w == 0 {
				break
			}
			sc.digits = append(sc.digits, v)
			i += w
		}
		// A check character X closes an ID number, so it ends the chunk.
		if w := xAt(s, i); w > 0 && !asciiAlnumAt(s, i+w) {
			sc.digits = append(sc.digits, 10)
			i += w
			g.end, g.d1 = i, len(sc.digits)
			sc.groups = append(sc.groups, g)
			break
		}
		g.end, g.d1 = i, len(sc.digits)
		sc.groups = append(sc.groups, g)

		j, n := i, 0
		for n < maxSepRun && j < len(s) {
			w := sepAt(s, j)
			if w == 0 {
				break
			}
			j += w
			n++
		}
		if n == 0 || j >= len(s) {
			break
		}
		if _, w := digitAt(s, j); w == 0 {
			break
		}
		i = j
	}
	sc.resolve()
	return i
}

// Kinds of number a span of groups can be.
const (
	kindNone = iota
	kindMobile
	kindID
	kindCard
)

// resolve finds numbers in the current chunk. A number is a span of whole
// groups; from each group the longest valid span wins, so an ID number is
// preferred to a mobile number hidden in it.
func (sc *digitScanner) resolve() {
	gs := sc.groups
	for i := 0; i < len(gs); {
		bestJ, bestKind, total := -1, kindNone, 0
		for j := i; j < len(gs); j++ {
			total += gs[j].d1 - gs[j].d0
			if total > 19 {
				break
			}
			if k := sc.classify(i, j); k != kindNone {
				bestJ, bestKind = j, k
			}
		}
		if bestKind == kindNone {
			i++
			continue
		}
		sc.report(i, bestJ, bestKind)
		i = bestJ + 1
	}
}

// classify tells what the span of groups i..j is.
func (sc *digitScanner) classify(i, j int) int {
	gs := sc.groups
	d := sc.digits[gs[i].d0:gs[j].d1]
	if len(d) != 11 && len(d) != 13 && len(d) < 15 || len(d) > 19 {
		return kindNone
	}
	if i == 0 && sc.gluedLeft(gs[0].start) {
		return kindNone
	}
	if j == len(gs)-1 && sc.gluedRight(gs[j].end) {
		return kindNone
	}
	if len(d) == 18 && validID(d, sc.today) {
		return kindID
	}
	if len(d) >= 16 {
		if validCard(d) && sc.cardContext(gs[i].start) {
			return kindCard
		}
		return kindNone
	}
	if _, ok := sc.mobileBody(i, j); ok {
		return kindMobile
	}
	return kindNone
}

// mobileBody returns the 11 digits of a mobile number spanning groups i..j,
// after an optional 86 or 0086 country prefix, if the span is one.
func (sc *digitScanner) mobileBody(i, j int) ([]byte, bool) {
	gs := sc.groups
	d := sc.digits[gs[i].d0:gs[j].d1]
	first := i // first group of the body
	switch len(d) {
	case 11:
	case 13, 15:
		p := len(d) - 11
		if !hasCountryPrefix(d[:p]) {
			return nil, false
		}
		switch {
		case i == j: // one run: 8613800138000
		case gs[i].d1-gs[i].d0 == p: // 86 138 0013 8000
			first = i + 1
		default:
			return nil, false
		}
		d = d[p:]
	default:
		return nil, false
	}
	if d[0] != 1 || d[1] < 3 || d[1] > 9 {
		return nil, false
	}
	for _, v := range d {
		if v > 9 {
			return nil, false
		}
	}
	if i == j || sc.mobileGrouping(first, j) {
		return d, true
	}
	return nil, false
}

// hasCountryPrefix reports whether p is 86 or 0086.
func hasCountryPrefix(p []byte) bool {
	switch len(p) {
	case 2:
		return p[0] == 8 && p[1] == 6
	case 4:
		return p[0] == 0 && p[1] == 0 && p[2] == 8 && p[3] == 6
	}
	return false
}

// mobileGrouping reports whether groups i..j are written the way people
// write a mobile number: 11, 3-4-4, 3-8, 7-4, or one digit at a time. Other
// groupings of 11 digits are more likely table cells or bank card fragments.
func (sc *digitScanner) mobileGrouping(i, j int) bool {
	var lens [11]int
	n := 0
	for k := i; k <= j; k++ {
		if n == len(lens) {
			return false
		}
		lens[n] = sc.groups[k].d1 - sc.groups[k].d0
		n++
	}
	switch l := lens[:n]; {
	case n == 1:
		return l[0] == 11
	case n == 2:
		return (l[0] == 3 && l[1] == 8) || (l[0] == 7 && l[1] == 4)
	case n == 3:
		return l[0] == 3 && l[1] == 4 && l[2] == 4
	case n == 11:
		return true // all single digits: the sum is 11
	}
	return false
}

// validID checks an 18-character citizen ID number: province, birth date
// between 1900-01-01 and today, and the GB 11643 check character.
func validID(d []byte, today int) bool {
	sum := 0
	for k := range 17 {
		if d[k] > 9 {
			return false
		}
		sum += int(d[k]) * idWeights[k]
	}
	if !province(int(d[0])*10 + int(d[1])) {
		return false
	}
	year := num(d[6:10])
	month := num(d[10:12])
	day := num(d[12:14])
	if year < 1900 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return false
	}
	if year*10000+month*100+day > today {
		return false
	}
	return idCheck[sum%11] == checkChar(d[17])
}

func checkChar(v byte) byte {
	if v == 10 {
		return 'X'
	}
	return '0' + v
}

// province reports whether c is the code of a province-level division as
// used in ID numbers, including 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and
// 83 (residence permits for Taiwan residents).
func province(c int) bool {
	switch {
	case c >= 11 && c <= 15, c >= 21 && c <= 23, c >= 31 && c <= 37,
		c >= 41 && c <= 46, c >= 50 && c <= 54, c >= 61 && c <= 65:
		return true
	}
	return c == 71 || c == 81 || c == 82 || c == 83
}

func num(d []byte) int {
	n := 0
	for _, v := range d {
		n = n*10 + int(v)
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// report appends the finding for groups i..j.
func (sc *digitScanner) report(i, j, kind int) {
	start, end := sc.groups[i].start, sc.groups[j].end
	var f Finding
	switch kind {
	case kindMobile:
		body, _ := sc.mobileBody(i, j)
		if i == 0 {
			start = sc.prefixStart(start, sc.groups[j].d1-sc.groups[i].d0 > len(body))
		}
		f = privacyFinding(model.CategoryPrivacyPhone, RuleMobile, "删除或打码处理该手机号码，如 "+mask(body, 3, 4))
	case kindCard:
		d := sc.digits[sc.groups[i].d0:sc.groups[j].d1]
		f = privacyFinding(model.CategoryPrivacyBankCard, RuleBankCard, "删除或打码处理该银行卡号，如 "+mask(d, 4, 4))
	case kindID:
		d := sc.digits[sc.groups[i].d0:sc.groups[j].d1]
		f = privacyFinding(model.CategoryPrivacyIDNumber, RuleIDNumber, "删除或打码处理该公民身份号码，如 "+mask(d, 6, 4))
	}
	if start < sc.lastEnd { // never reach back into an earlier finding
		start = sc.groups[i].start
	}
	sc.lastEnd = end
	sc.out = append(sc.out, hit{start: start, end: end, term: -1, f: f})
}

// prefixStart extends a mobile number that starts at byte offset start
// backwards over the rest of its country prefix: the "+" or "＋" before an
// 86 it already includes, or else "(+86)", "（＋８６）", "(86)" just before it.
func (sc *digitScanner) prefixStart(start int, has86 bool) int {
	s := sc.text
	if has86 {
		if r, w := utf8.DecodeLastRuneInString(s[:start]); r == '+' || r == '＋' {
			return start - w
		}
		return start
	}
	p := start
	if w := sepBefore(s, p); w > 0 {
		p -= w
	}
	r, w := utf8.DecodeLastRuneInString(s[:p])
	if r != ')' && r != '）' {
		return start
	}
	p -= w
	for _, want := range [2][2]rune{{'6', '６'}, {'8', '８'}} {
		r, w = utf8.DecodeLastRuneInString(s[:p])
		if r != want[0] && r != want[1] {
			return start
		}
		p -= w
	}
	if r, w := utf8.DecodeLastRuneInString(s[:p]); r == '+' || r == '＋' {
		p -= w
	}
	if r, w := utf8.DecodeLastRuneInString(s[:p]); r == '(' || r == '（' {
		return p - w
	}
	return start
}

// mask keeps the first head and last tail digits and stars the rest, the
// way a masked number should be published.
func mask(d []byte, head, tail int) string {
	var b strings.Builder
	for k, v := range d {
		switch {
		case k < head || k >= len(d)-tail:
			b.WriteByte(checkChar(v))
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}

// gluedLeft reports whether the character before byte offset i binds a
// number to something longer: an ASCII letter or '_' (codes, order numbers)
// or a decimal point after a digit.
func (sc *digitScanner) gluedLeft(i int) bool {
	s := sc.text
	if i == 0 {
		return false
	}
	b := s[i-1]
	if isASCIIWordByte(b) {
		return true
	}
	if b == '.' && i >= 2 {
		return s[i-2]-'0' < 10 || isFullWidthDigitBefore(s, i-1)
	}
	return false
}

// gluedRight is gluedLeft for the character at byte offset i, after a number.
func (sc *digitScanner) gluedRight(i int) bool {
	s := sc.text
	if i >= len(s) {
		return false
	}
	b := s[i]
	if isASCIIWordByte(b) {
		return true
	}
	if b == '.' && i+1 < len(s) {
		_, w := digitAt(s, i+1)
		return w > 0
	}
	return false
}

func isASCIIWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_'
}

func isFullWidthDigitBefore(s string, i int) bool {
	return i >= 3 && s[i-3] == 0xEF && s[i-2] == 0xBC && s[i-1]-0x90 < 10
}

func asciiAlnumAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	b := s[i]
	return isASCIIWordByte(b) || b-'0' < 10
}

// digitAt returns the value and byte width of an ASCII or full-width digit
// at s[i], or width 0.
func digitAt(s string, i int) (byte, int) {
	b := s[i]
	if b-'0' < 10 {
		return b - '0', 1
	}
	if b == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2]-0x90 < 10 { // ０-９
		return s[i+2] - 0x90, 3
	}
	return 0, 0
}

// xAt returns the byte width of an ID check character X at s[i] (X, x, Ｘ,
// ｘ), or 0.
func xAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch {
	case s[i] == 'X' || s[i] == 'x':
		return 1
	case strings.HasPrefix(s[i:], "Ｘ") || strings.HasPrefix(s[i:], "ｘ"):
		return 3
	}
	return 0
}

// sepAt returns the byte width of a separator people put inside numbers at
// s[i], or 0: space, no-break space, '-', '－', '　' and the hyphens
// U+2010..U+2013.
func sepAt(s string, i int) int {
	switch b := s[i]; {
	case b == ' ' || b == '-':
		return 1
	case b == 0xC2:
		if i+1 < len(s) && s[i+1] == 0xA0 {
			return 2
		}
	case b == 0xEF:
		if i+2 < len(s) && s[i+1] == 0xBC && s[i+2] == 0x8D {
			return 3
		}
	case b == 0xE3:
		if i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x80 {
			return 3
		}
	case b == 0xE2:
		if i+2 < len(s) && s[i+1] == 0x80 && s[i+2] >= 0x90 && s[i+2] <= 0x93 {
			return 3
		}
	}
	return 0
}

// sepBefore returns the byte width of a separator ending at byte offset i,
// or 0.
func sepBefore(s string, i int) int {
	for w := 1; w <= 3 && w <= i; w++ {
		if sepAt(s, i-w) == w {
			return w
		}
	}
	return 0
}

// countRunesValid counts the runes of valid UTF-8 eight bytes at a time as
// the bytes that are not continuation bytes (10xxxxxx).
func countRunesValid(s string) int {
	const hi = 0x8080808080808080
	n := len(s)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		n -= bits.OnesCount64(x & hi &^ (x << 1))
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			n--
		}
	}
	return n
}

// validCard reports whether d (16 to 19 digits) passes the Luhn check and
// starts like a card number: 62 (UnionPay), 4 (Visa), 51–55 (Mastercard),
// 35 (JCB), 60 or 9 (domestic debit cards).
func validCard(d []byte) bool {
	sum := 0
	for k := range d {
		v := int(d[len(d)-1-k])
		if v > 9 {
			return false
		}
		if k%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	if sum%10 != 0 {
		return false
	}
	switch p := int(d[0])*10 + int(d[1]); {
	case p == 62, d[0] == 4, p >= 51 && p <= 55, p == 35, p == 60, d[0] == 9:
		return true
	}
	return false
}

// privacyFinding is a finding of personal data of category c.
func privacyFinding(c, rule, suggestion string) Finding {
	return Finding{Category: c, Severity: model.DefaultSeverity(c), Rule: rule, Suggestion: suggestion}
}

// cardWords are what people write before a bank card number; without one
// nearby, a Luhn-valid run of digits is as likely an order or file number.
// A bank's name counts as much as a card word: leaked payment notices
// write "建设银行 6217…" with nothing else. "银行" covers the full names
// (中国建设银行, 福州农村商业银行, 村镇银行 …); the rest are the short
// forms and the rural credit bodies, which do not say 银行.
var cardWords = []string{
	"卡号", "账号", "帐号", "开户行", "开户银行", "银行卡", "储蓄卡", "信用卡", "借记卡", "收款", "转账", "汇款", "户名",
	"account", "Account", "card", "Card",
	"银行", "农商行", "农信社", "信用社", "信用联社", "邮储", "工行", "农行", "中行", "建行", "交行", "招行", "浦发", "兴业",
}

// cardContext reports whether a card word stands in the 40 bytes (about a
// dozen Chinese characters) before byte offset i, on the same line.
func (sc *digitScanner) cardContext(i int) bool {
	from := max(0, i-40)
	before := sc.text[from:i]
	if nl := strings.LastIndexByte(before, '\n'); nl >= 0 {
		before = before[nl+1:]
	}
	for _, w := range cardWords {
		if strings.Contains(before, w) {
			return true
		}
	}
	return false
}

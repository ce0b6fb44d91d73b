package textscan

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Classes of a character after folding, besides an ordinary character.
const (
	classChar  = iota // an ordinary character, kept
	classDrop         // zero-width and format characters: removed
	classNoise        // spaces and symbols people put between characters to evade a lexicon
	classBreak        // a line break: no term crosses it
)

// foldMax bounds the table: the BMP and the CJK extension planes.
const foldMax = 0x30000

// folded is one entry of the fold table: the canonical character and its
// class.
type folded struct {
	r     rune
	class uint8
}

var (
	foldOnce  sync.Once
	foldTable []folded
)

// fold returns the canonical form of r and its class. The canonical form is
// NFKC (full-width ASCII and compatibility forms), lower case, one digit
// for every digit style (①⑴❶➀, full-width), 一…九 for the financial numerals
// 壹…玖, and simplified for traditional characters. Every character maps to
// at most one character, so folding keeps a one-to-one offset map.
func fold(r rune) (rune, uint8) {
	if r >= 0 && r < foldMax {
		f := foldTable[r]
		return f.r, f.class
	}
	return r, classChar
}

func initFold() {
	foldOnce.Do(func() {
		t := make([]folded, foldMax)
		for r := range rune(foldMax) {
			t[r] = folded{r, classChar}
		}
		ranges := [][2]rune{{0, 0x3400}, {0xA000, 0x10000}, {0x1D400, 0x1D800}, {0x1F100, 0x1F200}, {0x2F800, 0x2FA20}}
		for _, rg := range ranges {
			for r := rg[0]; r < rg[1]; r++ {
				t[r] = foldOne(r)
			}
		}
		for _, rg := range [][3]rune{
			{0x2776, 0x277E, '1'}, {0x2780, 0x2788, '1'}, {0x278A, 0x2792, '1'}, // ❶ ➀ ➊
			{0x24F5, 0x24FD, '1'}, // ⓵
		} {
			for r := rg[0]; r <= rg[1]; r++ {
				t[r] = folded{rg[2] + r - rg[0], classChar}
			}
		}
		t['⓿'] = folded{'0', classChar}
		t['⓪'] = folded{'0', classChar}
		t['〇'] = folded{'〇', classChar}
		for i, r := range []rune("壹贰叁肆伍陆柒捌玖拾佰仟貳參陸") {
			t[r] = folded{[]rune("一二三四五六七八九十百千二三六")[i], classChar}
		}
		for i := 0; i < len(t2sPairs); {
			tr, w1 := utf8.DecodeRuneInString(t2sPairs[i:])
			sr, w2 := utf8.DecodeRuneInString(t2sPairs[i+w1:])
			i += w1 + w2
			if tr < foldMax {
				t[tr] = folded{sr, classChar}
			}
		}
		foldTable = t
	})
}

// foldOne computes the entry of r from Unicode data.
func foldOne(r rune) folded {
	switch {
	case r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029:
		return folded{r, classBreak}
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || r == 0x00AD ||
		(r >= 0xFE00 && r <= 0xFE0F) || unicode.Is(unicode.Cf, r):
		return folded{r, classDrop}
	}
	c := r
	if s := norm.NFKC.String(string(r)); s != string(r) {
		// Keep the one letter or digit of a decomposition: ⑴ → (1) → 1.
		var keep rune = -1
		n := 0
		for _, x := range s {
			if unicode.IsLetter(x) || unicode.IsDigit(x) || unicode.Is(unicode.Han, x) {
				keep = x
				n++
			}
		}
		switch {
		case utf8.RuneCountInString(s) == 1:
			c, _ = utf8.DecodeRuneInString(s)
		case n == 1:
			c = keep
		}
	}
	c = unicode.ToLower(c)
	if c >= '０' && c <= '９' {
		c = '0' + c - '０'
	}
	switch {
	case c == '\n' || c == '\r':
		return folded{c, classBreak}
	case isStop(c), c == '★', c == '☆':
		// ★ is part of a classification mark (机密★), not decoration.
		return folded{c, classChar}
	case unicode.IsSpace(c), unicode.IsPunct(c), unicode.IsSymbol(c):
		return folded{c, classNoise}
	}
	return folded{c, classChar}
}

// isStop reports whether c ends a clause; such marks are ordinary characters,
// never skipped as noise, so a term does not match across "平台，独立".
func isStop(c rune) bool {
	switch c {
	case ',', '.', ';', ':', '!', '?', '。', '、', '，', '；', '：', '！', '？', '｡', '､':
		return true
	}
	return false
}

// Normalize returns the canonical form of s as matching sees it: folded
// characters with zero-width characters removed. Noise characters are kept;
// they are skipped only while matching.
func Normalize(s string) string {
	initFold()
	b := make([]rune, 0, len(s))
	for _, r := range s {
		c, class := fold(r)
		if class == classDrop {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

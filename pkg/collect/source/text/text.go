// Package text is what sources share about the content they read and no
// one source owns: HTML turned into plain text, the dates Chinese feeds and
// APIs write, and the identity of a WeChat article link.
package text

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// plainText strips HTML to text: tags dropped, script and style skipped,
// entities decoded, block elements separated and whitespace collapsed.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			switch tok.DataAtom {
			case atom.Script, atom.Style:
				switch tok.Type {
				case html.StartTagToken:
					skip++
				case html.EndTagToken:
					if skip > 0 {
						skip--
					}
				}
			case atom.Br, atom.P, atom.Div, atom.Li, atom.Tr, atom.Td, atom.Th,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Section:
				b.WriteByte(' ')
			}
		}
	}
}

// collapse trims and folds runs of white space (including U+3000 and
// non-breaking spaces) into one ASCII space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// PlainText strips HTML to text as feed items are: tags dropped, script
// and style skipped, entities decoded, white space collapsed.
func PlainText(s string) string { return plainText(s) }

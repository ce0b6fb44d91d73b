package text

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/govwatch/govwatch/pkg/model"
)

// MaxLinks is how many links ExtractLinks keeps from one post: the first
// ones in document order. Real posts carry a few; a page planted with link
// spam carries hundreds, and the first hundred are evidence enough.
const MaxLinks = 100

// maxLinkText caps an anchor text in runes.
const maxLinkText = 200

// ExtractLinks returns the outbound links of an HTML fragment, in document
// order: href values of <a> and <area> resolved against base (the post's
// own address; relative links are dropped when it is empty or not
// absolute), http and https only (javascript:, mailto:, tel:, data: and
// fragments are not links to anywhere), fragments stripped, each URL once
// and at most MaxLinks. A link is Hidden when it, or an element around it,
// is styled invisible inline (display:none, visibility:hidden, font-size:0,
// opacity:0, the hidden attribute, or positioned or indented far off
// screen), or when its text names a host other than its target's.
// Stylesheet classes are not resolved: only inline styles are seen.
func ExtractLinks(fragment, base string) []model.Link {
	if !strings.Contains(fragment, "<") {
		return nil
	}
	root, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return nil
	}
	x := newExtractor(base)
	for _, n := range root {
		x.walk(n, false)
	}
	return x.links
}

func newExtractor(base string) *extractor {
	b, _ := url.Parse(strings.TrimSpace(base))
	if b != nil && !b.IsAbs() {
		b = nil
	}
	return &extractor{base: b, seen: map[string]int{}}
}

type extractor struct {
	base  *url.URL
	seen  map[string]int // URL → index in links
	links []model.Link
}

func (x *extractor) walk(n *html.Node, hidden bool) {
	if n.Type == html.ElementNode {
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Template, atom.Noscript:
			return
		}
		hidden = hidden || invisible(n)
		if n.DataAtom == atom.A || n.DataAtom == atom.Area {
			x.add(n, hidden)
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		x.walk(c, hidden)
	}
}

func (x *extractor) add(n *html.Node, hidden bool) {
	text := anchorText(n)
	if n.DataAtom == atom.Area {
		text = collapse(attr(n, "alt"))
	}
	x.keep(attr(n, "href"), text, hidden)
}

// keep adds one link: resolved, checked, once, up to MaxLinks.
func (x *extractor) keep(href, text string, hidden bool) {
	u, ok := x.resolve(href)
	if !ok {
		return
	}
	hidden = hidden || namesOtherHost(text, u)
	if i, dup := x.seen[u.String()]; dup {
		x.links[i].Hidden = x.links[i].Hidden || hidden
		if x.links[i].Text == "" {
			x.links[i].Text = text
		}
		return
	}
	if len(x.links) >= MaxLinks {
		return
	}
	x.seen[u.String()] = len(x.links)
	x.links = append(x.links, model.Link{URL: u.String(), Text: text, Hidden: hidden})
}

// CleanLinks holds links a source read as data (an API's list of links,
// not HTML) to ExtractLinks' rules: URLs resolved against base, http and
// https only, each once, at most MaxLinks, text collapsed, and a text
// naming another host than the target marks the link hidden.
func CleanLinks(links []model.Link, base string) []model.Link {
	x := newExtractor(base)
	for _, l := range links {
		x.keep(l.URL, capText(collapse(l.Text)), l.Hidden)
	}
	return x.links
}

// resolve makes href absolute against the base and keeps it when it is
// http or https with a host.
func (x *extractor) resolve(href string) (*url.URL, bool) {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") {
		return nil, false
	}
	u, err := url.Parse(href)
	if err != nil {
		return nil, false
	}
	if !u.IsAbs() {
		if x.base == nil {
			return nil, false
		}
		u = x.base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, false
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// anchorText is the collapsed text inside an anchor, the alt text of its
// images when it has no text, capped at maxLinkText runes.
func anchorText(n *html.Node) string {
	var b, alt strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style):
			return
		case n.Type == html.ElementNode && n.DataAtom == atom.Img:
			alt.WriteString(attr(n, "alt"))
			alt.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	s := collapse(b.String())
	if s == "" {
		s = collapse(alt.String())
	}
	return capText(s)
}

func capText(s string) string {
	if utf8.RuneCountInString(s) > maxLinkText {
		s = string([]rune(s)[:maxLinkText])
	}
	return s
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return true
		}
	}
	return false
}

// invisible reports whether an element's own attributes hide it.
func invisible(n *html.Node) bool {
	if hasAttr(n, "hidden") {
		return true
	}
	style := attr(n, "style")
	if style == "" {
		return false
	}
	positioned := false
	offscreen := false
	for _, decl := range strings.Split(style, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "!important")))
		switch prop {
		case "display":
			if val == "none" {
				return true
			}
		case "visibility":
			if val == "hidden" || val == "collapse" {
				return true
			}
		case "font-size", "opacity":
			if v, _, ok := length(val); ok && v == 0 {
				return true
			}
		case "position":
			positioned = val == "absolute" || val == "fixed"
		case "left", "top", "right", "bottom", "margin-left", "margin-top":
			offscreen = offscreen || farOff(val)
		case "text-indent":
			if farOff(val) {
				return true
			}
		}
	}
	return positioned && offscreen
}

// farOff reports a negative length large enough to put an element outside
// any screen: -100px and beyond, -10em, -100%.
func farOff(val string) bool {
	v, unit, ok := length(val)
	if !ok || v >= 0 {
		return false
	}
	switch unit {
	case "em", "rem", "vw", "vh", "cm", "in":
		return v <= -10
	default: // px, pt, %, and unitless
		return v <= -100
	}
}

// length splits a CSS length into its number and unit.
func length(val string) (float64, string, bool) {
	i := 0
	for i < len(val) && (val[i] == '-' || val[i] == '+' || val[i] == '.' || (val[i] >= '0' && val[i] <= '9')) {
		i++
	}
	if i == 0 {
		return 0, "", false
	}
	v, err := strconv.ParseFloat(val[:i], 64)
	if err != nil {
		return 0, "", false
	}
	return v, strings.TrimSpace(val[i:]), true
}

// namesOtherHost reports anchor text that reads as an address (a host name
// with a dot, optionally with a scheme or path) whose host is neither the
// target's host nor a parent or child domain of it, "www." aside:
// "www.gov.cn" over a link to a casino.
func namesOtherHost(text string, target *url.URL) bool {
	t := strings.TrimSpace(text)
	if t == "" || strings.ContainsAny(t, " \t") {
		return false
	}
	if !strings.Contains(t, "://") {
		t = "http://" + t
	}
	u, err := url.Parse(t)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if !looksLikeHost(h) {
		return false
	}
	h = strings.TrimPrefix(h, "www.")
	th := strings.TrimPrefix(strings.ToLower(target.Hostname()), "www.")
	return !(h == th || strings.HasSuffix(h, "."+th) || strings.HasSuffix(th, "."+h))
}

// looksLikeHost is a dotted name of letters, digits and hyphens whose last
// label is a letter TLD of two or more characters.
func looksLikeHost(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

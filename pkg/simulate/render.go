package simulate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func sortNewestFirst(ps []Post) {
	slices.SortFunc(ps, func(a, b Post) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// render writes the feed of an account in its format and encoding. updated
// is the feed's own timestamp: the newest post's time, or the zero time.
func (s *Server) render(a *AccountScenario, posts []Post, updated time.Time) ([]byte, error) {
	switch a.Format {
	case FormatJSON:
		return s.renderJSON(a, posts)
	case FormatAtom:
		return renderXML(a, s.atomDoc(a, posts, updated))
	default:
		return renderXML(a, s.rssDoc(a, posts, updated))
	}
}

func renderXML(a *AccountScenario, doc any) ([]byte, error) {
	var buf bytes.Buffer
	decl := "UTF-8"
	if a.Encoding == EncodingGBK {
		decl = "GBK"
	}
	fmt.Fprintf(&buf, "<?xml version=\"1.0\" encoding=\"%s\"?>\n", decl)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render %s: %w", a.ID, err)
	}
	buf.WriteByte('\n')
	if a.Encoding != EncodingGBK {
		return buf.Bytes(), nil
	}
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("render %s as gbk: %w", a.ID, err)
	}
	return b, nil
}

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Items         []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Author      string  `xml:"author"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func (s *Server) rssDoc(a *AccountScenario, posts []Post, updated time.Time) rssDoc {
	ch := rssChannel{
		Title:       a.Title,
		Link:        s.sc.LinkBase + "/" + a.ID,
		Description: a.Title,
		Language:    "zh-cn",
	}
	if !updated.IsZero() {
		ch.LastBuildDate = updated.In(calendar.Shanghai).Format(time.RFC1123Z)
	}
	for _, p := range posts {
		ch.Items = append(ch.Items, rssItem{
			Title:       p.Title,
			Link:        p.URL,
			GUID:        rssGUID{IsPermaLink: "false", Value: p.ID},
			PubDate:     p.Published.In(calendar.Shanghai).Format(time.RFC1123Z),
			Author:      p.Author,
			Description: p.HTML,
		})
	}
	return rssDoc{Version: "2.0", Channel: ch}
}

// atomDoc carries RSSHub's engagement extensions on each entry.
type atomDoc struct {
	XMLName xml.Name    `xml:"feed"`
	NS      string      `xml:"xmlns,attr"`
	NSHub   string      `xml:"xmlns:rsshub,attr"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Link    atomLink    `xml:"link"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomContent struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

type atomEntry struct {
	Title     string      `xml:"title"`
	ID        string      `xml:"id"`
	Link      atomLink    `xml:"link"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Author    atomAuthor  `xml:"author"`
	Content   atomContent `xml:"content"`
	Upvotes   int64       `xml:"rsshub:upvotes"`
	Comments  int64       `xml:"rsshub:comments"`
}

func (s *Server) atomDoc(a *AccountScenario, posts []Post, updated time.Time) atomDoc {
	doc := atomDoc{
		NS:     "http://www.w3.org/2005/Atom",
		NSHub:  "http://rsshub.app/",
		Title:  a.Title,
		ID:     s.sc.LinkBase + "/" + a.ID,
		Link:   atomLink{Href: s.sc.LinkBase + "/" + a.ID, Rel: "alternate"},
		Author: atomAuthor{Name: a.Author},
	}
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	doc.Updated = updated.In(calendar.Shanghai).Format(time.RFC3339)
	for _, p := range posts {
		ts := p.Published.In(calendar.Shanghai).Format(time.RFC3339)
		doc.Entries = append(doc.Entries, atomEntry{
			Title:     p.Title,
			ID:        p.ID,
			Link:      atomLink{Href: p.URL, Rel: "alternate"},
			Published: ts,
			Updated:   ts,
			Author:    atomAuthor{Name: p.Author},
			Content:   atomContent{Type: "html", Value: p.HTML},
			Upvotes:   p.Upvotes,
			Comments:  p.Comments,
		})
	}
	return doc
}

type jsonFeed struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	HomePageURL string       `json:"home_page_url"`
	Language    string       `json:"language"`
	Items       []jsonItem   `json:"items"`
	Authors     []jsonAuthor `json:"authors"`
}

type jsonAuthor struct {
	Name string `json:"name"`
}

type jsonItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	ContentHTML   string       `json:"content_html"`
	DatePublished string       `json:"date_published"`
	Authors       []jsonAuthor `json:"authors"`
}

func (s *Server) renderJSON(a *AccountScenario, posts []Post) ([]byte, error) {
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       a.Title,
		HomePageURL: s.sc.LinkBase + "/" + a.ID,
		Language:    "zh-CN",
		Items:       []jsonItem{},
		Authors:     []jsonAuthor{{Name: a.Author}},
	}
	for _, p := range posts {
		f.Items = append(f.Items, jsonItem{
			ID:            p.ID,
			URL:           p.URL,
			Title:         p.Title,
			ContentHTML:   p.HTML,
			DatePublished: p.Published.In(calendar.Shanghai).Format(time.RFC3339),
			Authors:       []jsonAuthor{{Name: p.Author}},
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("render %s: %w", a.ID, err)
	}
	return buf.Bytes(), nil
}

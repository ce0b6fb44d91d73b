package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
)

var (
	// xmlDecl is a leading XML declaration, after an optional BOM.
	xmlDecl = regexp.MustCompile(`^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\?>`)
	// declEncoding is the encoding pseudo-attribute inside it.
	declEncoding = regexp.MustCompile(`\s+encoding\s*=\s*(?:"[^"]*"|'[^']*')`)
)

// Parse turns a feed body into a Result: the charset of contentType (the
// response's Content-Type) wins over the XML declaration, zone-less times
// are Beijing time, and now dates items without a time.
func Parse(body []byte, contentType string, now time.Time) (*Result, error) {
	body, err := toUTF8(body, contentType)
	if err != nil {
		return nil, err
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	res := &Result{FeedTitle: text.PlainText(feed.Title), Items: make([]Item, 0, len(feed.Items))}
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		res.Items = append(res.Items, item(it, feed, now, calendar.Shanghai))
	}
	return res, nil
}

// toUTF8 decodes body from the charset named in the Content-Type header,
// once, and then drops the encoding from the XML declaration so the XML
// parser does not decode again. Without a header charset the body is left
// alone: gofeed honours the XML declaration itself.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	body, decoded, err := fetch.ToUTF8(body, contentType)
	if err != nil || !decoded {
		return body, err
	}
	if loc := xmlDecl.FindIndex(body); loc != nil {
		decl := declEncoding.ReplaceAll(body[loc[0]:loc[1]], nil)
		body = append(append([]byte(nil), decl...), body[loc[1]:]...)
	}
	return body, nil
}

// item converts one gofeed item.
func item(it *gofeed.Item, feed *gofeed.Feed, now time.Time, loc *time.Location) Item {
	body := it.Content
	if strings.TrimSpace(body) == "" {
		body = it.Description
	}
	out := Item{
		URL:     strings.TrimSpace(it.Link),
		Title:   text.PlainText(it.Title),
		Text:    text.PlainText(body),
		Author:  author(it, feed),
		Metrics: metrics(it.Extensions),
	}
	out.Links = text.ExtractLinks(body, out.URL)
	out.NativeID = nativeID(it.GUID, out.URL, out.Title, out.Text)

	raw, parsed := it.Published, it.PublishedParsed
	if strings.TrimSpace(raw) == "" && parsed == nil {
		raw, parsed = it.Updated, it.UpdatedParsed
	}
	if t, ok := text.ItemTime(raw, parsed, loc); ok {
		out.PublishedAt = t.UTC()
	} else {
		out.PublishedAt = now.UTC()
	}
	return out
}

// nativeID is the guid, else the link, else a hash of title and text.
func nativeID(guid, link, title, text string) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if link != "" {
		return link
	}
	h := sha256.Sum256([]byte(title + "\x00" + text))
	return "sha256:" + hex.EncodeToString(h[:16])
}

func author(it *gofeed.Item, feed *gofeed.Feed) string {
	for _, people := range [][]*gofeed.Person{it.Authors, feed.Authors} {
		for _, p := range people {
			if p != nil && strings.TrimSpace(p.Name) != "" {
				return strings.TrimSpace(p.Name)
			}
		}
	}
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Creator) > 0 {
		return strings.TrimSpace(it.DublinCoreExt.Creator[0])
	}
	return ""
}

// metrics reads RSSHub's engagement extensions (rsshub:upvotes,
// rsshub:comments, and shares or views when a route adds them). Values that
// are missing or not numbers count as zero.
func metrics(exts ext.Extensions) model.Metrics {
	hub := exts["rsshub"]
	if hub == nil {
		return model.Metrics{}
	}
	count := func(names ...string) int64 {
		for _, name := range names {
			for _, e := range hub[name] {
				if n, err := strconv.ParseInt(strings.TrimSpace(e.Value), 10, 64); err == nil && n >= 0 {
					return n
				}
			}
		}
		return 0
	}
	return model.Metrics{
		Likes:    count("upvotes", "likes"),
		Comments: count("comments"),
		Shares:   count("shares", "reposts"),
		Views:    count("views"),
	}
}

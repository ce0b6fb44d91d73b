package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// wirePost is what a crawler sends: the Post JSON without the fields the
// collector computes (id, content_hash, collected_at, schema, deleted are
// accepted and ignored, so a crawler may send Posts as they are).
type wirePost struct {
	Schema      int           `json:"schema"`
	ID          string        `json:"id"`
	AccountID   string        `json:"account_id"`
	Platform    string        `json:"platform"`
	NativeID    string        `json:"native_id"`
	Kind        string        `json:"kind"`
	ParentID    string        `json:"parent_id"`
	URL         string        `json:"url"`
	Title       string        `json:"title"`
	Text        string        `json:"text"`
	Author      string        `json:"author"`
	PublishedAt string        `json:"published_at"`
	CollectedAt string        `json:"collected_at"`
	ContentHash string        `json:"content_hash"`
	Metrics     model.Metrics `json:"metrics"`
	Links       []model.Link  `json:"links"`
	Deleted     bool          `json:"deleted"`
}

// Field limits: a pushed post is a post, not a document dump.
const (
	maxNativeID = 256
	maxTitle    = 1 << 10
	maxText     = 256 << 10
	maxURL      = 2 << 10
)

// earliest is the oldest publication time accepted.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse reads a pushed body: a JSON array of posts. err is set when the
// body is not such an array (the message gives the byte offset); probs
// lists every invalid field of every post (index and field). allowed, when
// not empty, are the accounts the key may push for. The posts returned are
// complete: id, content hash and collection time (now) filled.
func Parse(body []byte, reg *registry.Registry, allowed []string, now time.Time, maxPosts int) ([]model.Post, []Problem, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, nil, fmt.Errorf("body is not a JSON array of posts: %s", jsonError(err))
	}
	if len(raws) == 0 {
		return nil, nil, errors.New("body is an empty array: nothing to ingest")
	}
	if len(raws) > maxPosts {
		return nil, nil, fmt.Errorf("%d posts in one request, over the limit of %d", len(raws), maxPosts)
	}
	var probs []Problem
	bad := func(i int, field, format string, args ...any) {
		probs = append(probs, Problem{Index: i, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	posts := make([]model.Post, 0, len(raws))
	seen := map[string]int{}
	for i, raw := range raws {
		// encoding/json would turn invalid bytes into U+FFFD: look first.
		if !utf8.Valid(raw) {
			at := invalidUTF8(raw)
			bad(i, fieldAt(raw, at), "not valid UTF-8 (byte %d of the post)", at)
			continue
		}
		var w wirePost
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&w); err != nil {
			field := ""
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				field = te.Field
			} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				field = strings.Trim(f, `"`)
			}
			bad(i, field, "%s", jsonError(err))
			continue
		}
		n := len(probs)
		a, known := reg.Account(w.AccountID)
		switch {
		case w.AccountID == "":
			bad(i, "account_id", "missing")
		case !known:
			bad(i, "account_id", "unknown account %q", truncate(w.AccountID, 64))
		case !a.Active():
			bad(i, "account_id", "account %q is %s, not active", w.AccountID, a.Status)
		case len(allowed) > 0 && !slices.Contains(allowed, w.AccountID):
			bad(i, "account_id", "this key may not push for account %q", w.AccountID)
		}
		if known && w.Platform != a.Platform {
			bad(i, "platform", "%q does not match the registry's %q for account %q", truncate(w.Platform, 32), a.Platform, w.AccountID)
		}
		switch {
		case strings.TrimSpace(w.NativeID) == "":
			bad(i, "native_id", "missing")
		case len(w.NativeID) > maxNativeID:
			bad(i, "native_id", "longer than %d bytes", maxNativeID)
		}
		kind := w.Kind
		if kind == "" {
			kind = model.KindPost
		}
		switch kind {
		case model.KindPost:
			if w.ParentID != "" {
				bad(i, "parent_id", "a post has no parent; use kind comment or reply")
			}
		case model.KindComment, model.KindReply:
			if w.ParentID == "" {
				bad(i, "parent_id", "a %s needs the id of what it answers", kind)
			}
		default:
			bad(i, "kind", "unknown kind %q (post, comment or reply)", truncate(w.Kind, 32))
		}
		if w.Title == "" && w.Text == "" && w.URL == "" {
			bad(i, "text", "a post needs a title, a text or a url")
		}
		for _, f := range []struct {
			name, val string
			max       int
		}{{"title", w.Title, maxTitle}, {"text", w.Text, maxText}, {"url", w.URL, maxURL}, {"author", w.Author, maxTitle}, {"parent_id", w.ParentID, maxURL}} {
			if len(f.val) > f.max {
				bad(i, f.name, "longer than %d bytes", f.max)
			}
		}
		if w.URL != "" && !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			bad(i, "url", "%q is not an http(s) URL", truncate(w.URL, 64))
		}
		published, perr := time.Parse(time.RFC3339, w.PublishedAt)
		switch {
		case w.PublishedAt == "":
			bad(i, "published_at", "missing (RFC 3339, e.g. 2026-11-26T08:00:00Z)")
		case perr != nil:
			bad(i, "published_at", "%q is not an RFC 3339 time such as 2026-11-26T08:00:00+08:00", truncate(w.PublishedAt, 40))
		case published.Before(earliest):
			bad(i, "published_at", "%s is before %s", w.PublishedAt, earliest.Format("2006"))
		case published.After(now.Add(5 * time.Minute)):
			bad(i, "published_at", "%s is in the future (server time %s)", w.PublishedAt, now.UTC().Format(time.RFC3339))
		}
		m := w.Metrics
		if m.Likes < 0 || m.Comments < 0 || m.Shares < 0 || m.Views < 0 {
			bad(i, "metrics", "counts must not be negative")
		}
		if len(w.Links) > text.MaxLinks {
			bad(i, "links", "%d links, at most %d", len(w.Links), text.MaxLinks)
		}
		for j, l := range w.Links {
			if u, err := url.Parse(l.URL); err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" || len(l.URL) > maxURL {
				bad(i, fmt.Sprintf("links[%d].url", j), "%q is not an absolute http or https URL of at most %d bytes", truncate(l.URL, 80), maxURL)
			}
		}
		if len(probs) > n {
			continue
		}
		p := model.Post{
			Schema: model.SchemaVersion, AccountID: w.AccountID, Platform: w.Platform,
			NativeID: w.NativeID, Kind: kind, ParentID: w.ParentID, URL: w.URL,
			Title: w.Title, Text: w.Text, Author: w.Author,
			PublishedAt: published.UTC(), CollectedAt: now.UTC(), Metrics: m, Links: w.Links,
		}
		p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
		p.ContentHash = model.ContentHashLinks(p.Title, p.Text, p.URL, p.Links)
		if j, dup := seen[p.ID]; dup {
			bad(i, "native_id", "the same post as index %d", j)
			continue
		}
		seen[p.ID] = i
		posts = append(posts, p)
	}
	return posts, probs, nil
}

// invalidUTF8 is the offset of the first byte of b that is not UTF-8.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, w := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && w == 1 {
			return i
		}
		i += w
	}
	return len(b)
}

// fieldAt names the key of the JSON object raw whose value holds byte at:
// the last key before it.
func fieldAt(raw []byte, at int) string {
	field, best := "", -1
	for _, name := range []string{"account_id", "platform", "native_id", "kind", "parent_id", "url", "title", "text", "author", "published_at", "links"} {
		if k := bytes.LastIndex(raw[:at], []byte(`"`+name+`"`)); k > best {
			field, best = name, k
		}
	}
	return field
}

// jsonError says what encoding/json found wrong and where.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	case errors.As(err, &te):
		where := te.Field
		if where == "" {
			where = "the top level"
		}
		return fmt.Sprintf("%s must be %s, not a JSON %s (byte %d)", where, te.Type, te.Value, te.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

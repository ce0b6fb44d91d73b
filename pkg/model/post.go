// Package model holds govwatch's wire types: what collectors publish (Post,
// AccountSnapshot, ProbeResult) and what the analyzer publishes (Alert). Their
// JSON is a contract read by tools outside the project; see docs/subjects.md.
package model

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// SchemaVersion is the version carried in every Post's "schema" field.
const SchemaVersion = 1

// Post kinds.
const (
	KindPost    = "post"    // something the account published
	KindComment = "comment" // a public comment or message on a post; ParentID is the post
	KindReply   = "reply"   // the account's answer to a comment; ParentID is the comment
)

// Metrics are the engagement counts a platform reports for a post.
type Metrics struct {
	Likes    int64 `json:"likes"`
	Comments int64 `json:"comments"`
	Shares   int64 `json:"shares"`
	Views    int64 `json:"views"`
}

// Post is one item collected from an account: a post, a comment on it or the
// account's reply. ID is "<platform>/<account_id>/<native_id>".
type Post struct {
	Schema      int       `json:"schema"`
	ID          string    `json:"id"`
	AccountID   string    `json:"account_id"`
	Platform    string    `json:"platform"`
	NativeID    string    `json:"native_id"`
	Kind        string    `json:"kind"`
	ParentID    string    `json:"parent_id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Text        string    `json:"text"`
	Author      string    `json:"author"`
	PublishedAt time.Time `json:"published_at"`
	CollectedAt time.Time `json:"collected_at"`
	ContentHash string    `json:"content_hash"`
	Metrics     Metrics   `json:"metrics"`
	// Links are the post's outbound links, in the order they appear. The
	// field is optional: posts from sources that do not read links, and
	// posts written before it existed, have none.
	Links []Link `json:"links,omitempty"`
	// Deleted is set when a post vanished from its feed inside the re-poll
	// window; the other fields repeat the last version seen.
	Deleted bool `json:"deleted,omitempty"`
}

// Link is one outbound link of a post.
type Link struct {
	// URL is the absolute http or https target.
	URL string `json:"url"`
	// Text is the anchor text, whitespace collapsed.
	Text string `json:"text"`
	// Hidden is set when the anchor is styled invisible (display:none,
	// visibility:hidden, font-size:0, off-screen positioning) or its text
	// names another host than its target: the marks of a planted link.
	Hidden bool `json:"hidden,omitempty"`
}

// PostID builds the canonical post id.
func PostID(platform, accountID, nativeID string) string {
	return platform + "/" + accountID + "/" + nativeID
}

// ContentHash returns "sha256:<hex>" over the fields an edit changes: title,
// text and URL. Engagement metrics are deliberately left out so a re-polled
// post with new counts keeps its hash.
func ContentHash(title, text, url string) string {
	return ContentHashLinks(title, text, url, nil)
}

// ContentHashLinks is ContentHash extended over a post's links, so an edit
// that only changes or removes a link (whose anchor text may be empty or
// hidden) is a new version. A post without links hashes as ContentHash does,
// so sources that read no links keep their hashes.
func ContentHashLinks(title, text, url string, links []Link) string {
	h := sha256.New()
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(text))
	h.Write([]byte{0})
	h.Write([]byte(url))
	for _, l := range links {
		h.Write([]byte{1})
		h.Write([]byte(l.URL))
		h.Write([]byte{0})
		h.Write([]byte(l.Text))
		if l.Hidden {
			h.Write([]byte{2})
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// MsgID is the Nats-Msg-Id of a post: "<post id>@<content_hash>", so an
// unchanged re-poll is dropped by JetStream and an edit goes through.
func (p *Post) MsgID() string {
	if p.Deleted {
		return p.ID + "@deleted"
	}
	return p.ID + "@" + p.ContentHash
}

// AccountSnapshot is the state of an account's profile at one moment.
type AccountSnapshot struct {
	Schema     int       `json:"schema"`
	AccountID  string    `json:"account_id"`
	Platform   string    `json:"platform"`
	Name       string    `json:"name"`
	AvatarHash string    `json:"avatar_hash"`
	Bio        string    `json:"bio"`
	Followers  int64     `json:"followers"`
	Following  int64     `json:"following"`
	Posts      int64     `json:"posts"`
	TakenAt    time.Time `json:"taken_at"`
}

// ProbeResult is one availability check of an app, mini-program or page.
type ProbeResult struct {
	Schema     int       `json:"schema"`
	AccountID  string    `json:"account_id"`
	Platform   string    `json:"platform"`
	Target     string    `json:"target"`
	OK         bool      `json:"ok"`
	StatusCode int       `json:"status_code"`
	Bytes      int64     `json:"bytes"`
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
	CheckedAt  time.Time `json:"checked_at"`
}

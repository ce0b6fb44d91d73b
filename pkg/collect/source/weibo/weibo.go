// Package weibo collects an authorised account through the Weibo open API:
// its timeline with reposts, comments and likes, its profile (followers,
// name, avatar, bio) and, when enabled, the public comments on its recent
// posts and its own replies to them.
package weibo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// DefaultBaseURL is the open API's address.
const DefaultBaseURL = "https://api.weibo.com"

// Limits of one poll: statuses read, and posts whose comments are read.
const (
	timelineCount   = 50
	commentedPosts  = 5
	commentsCount   = 50
	commentsWithin  = 72 * time.Hour
	createdAtLayout = time.RubyDate // "Fri Nov 27 09:00:00 +0800 2026"
)

// Source polls authorised accounts.
type Source struct {
	BaseURL string // "" means DefaultBaseURL
	Client  fetch.Client
	Clock   clockwork.Clock
	// Comments also reads the comments on the account's recent posts.
	Comments bool
}

var _ source.Source = (*Source)(nil)

// errorCodes are the open API's errors: system errors and rate limits
// (10001–10003, 10009, 10022–10024) go away by themselves; token and
// permission errors need someone to re-authorise.
var errorCodes = &fetch.APICodes{API: "weibo", Field: "error_code", Retryable: []int{10001, 10002, 10003, 10009, 10022, 10023, 10024}}

type user struct {
	ID             int64  `json:"id"`
	IDStr          string `json:"idstr"`
	ScreenName     string `json:"screen_name"`
	Description    string `json:"description"`
	AvatarLarge    string `json:"avatar_large"`
	ProfileImage   string `json:"profile_image_url"`
	FollowersCount int64  `json:"followers_count"`
	FriendsCount   int64  `json:"friends_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

type status struct {
	CreatedAt      string `json:"created_at"`
	IDStr          string `json:"idstr"`
	MID            string `json:"mid"`
	Text           string `json:"text"`
	User           *user  `json:"user"`
	RepostsCount   int64  `json:"reposts_count"`
	CommentsCount  int64  `json:"comments_count"`
	AttitudesCount int64  `json:"attitudes_count"`
	Deleted        string `json:"deleted"`
}

type comment struct {
	CreatedAt    string   `json:"created_at"`
	IDStr        string   `json:"idstr"`
	Text         string   `json:"text"`
	User         *user    `json:"user"`
	Status       *status  `json:"status"`
	ReplyComment *comment `json:"reply_comment"`
	LikeCount    int64    `json:"like_counts"`
}

// Poll reads the account's profile, timeline and (when enabled) comments.
func (s *Source) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	o := source.Options[Account](a.Source.Options)
	uid := o.UserID
	tok, err := source.ReadSecret(string(o.SecretFile), string(o.SecretEnv))
	if err != nil {
		return nil, fmt.Errorf("weibo %s: %w", a.ID, err)
	}
	now := s.clock().Now().UTC()
	b := &source.Batch{Complete: true, State: state}

	var u user
	if err := s.get(ctx, "/2/users/show.json", url.Values{"uid": {uid}}, string(tok), &u); err != nil {
		return nil, fmt.Errorf("weibo %s: %w", a.ID, err)
	}
	avatar := u.AvatarLarge
	if avatar == "" {
		avatar = u.ProfileImage
	}
	b.Snapshots = append(b.Snapshots, model.AccountSnapshot{
		Schema: model.SchemaVersion, AccountID: a.ID, Platform: a.Platform,
		Name: u.ScreenName, AvatarHash: hash(avatarKey(avatar)), Bio: u.Description,
		Followers: u.FollowersCount, Following: u.FriendsCount, Posts: u.StatusesCount, TakenAt: now,
	})

	var tl struct {
		Statuses []status `json:"statuses"`
	}
	q := url.Values{"uid": {uid}, "count": {strconv.Itoa(timelineCount)}, "page": {"1"}}
	if err := s.get(ctx, "/2/statuses/user_timeline.json", q, string(tok), &tl); err != nil {
		return nil, fmt.Errorf("weibo %s: %w", a.ID, err)
	}
	for _, st := range tl.Statuses {
		id := st.IDStr
		if id == "" {
			id = st.MID
		}
		if id == "" || st.Deleted == "1" {
			continue
		}
		p := s.post(a, id, st.Text, u.ScreenName, st.CreatedAt, now)
		p.URL = "https://weibo.com/" + uid + "/" + id
		p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
		p.Metrics = model.Metrics{Likes: st.AttitudesCount, Comments: st.CommentsCount, Shares: st.RepostsCount}
		b.Posts = append(b.Posts, p)
	}
	var commented []*model.Post
	for i := range b.Posts {
		p := &b.Posts[i]
		if s.Comments && p.Metrics.Comments > 0 && now.Sub(p.PublishedAt) <= commentsWithin && len(commented) < commentedPosts {
			commented = append(commented, p)
		}
	}
	for _, parent := range commented {
		var cs struct {
			Comments []comment `json:"comments"`
		}
		q := url.Values{"id": {parent.NativeID}, "count": {strconv.Itoa(commentsCount)}}
		if err := s.get(ctx, "/2/comments/show.json", q, string(tok), &cs); err != nil {
			return nil, fmt.Errorf("weibo %s: comments on %s: %w", a.ID, parent.NativeID, err)
		}
		for _, c := range cs.Comments {
			if c.IDStr == "" || c.User == nil {
				continue
			}
			p := s.post(a, parent.NativeID+"/c/"+c.IDStr, c.Text, c.User.ScreenName, c.CreatedAt, now)
			p.URL = parent.URL
			p.Kind, p.ParentID = model.KindComment, parent.ID
			if c.User.IDStr == uid || strconv.FormatInt(c.User.ID, 10) == uid {
				// The account answering: a reply to the comment it
				// answers, else to the post.
				p.Kind = model.KindReply
				if c.ReplyComment != nil && c.ReplyComment.IDStr != "" {
					p.ParentID = model.PostID(a.Platform, a.ID, parent.NativeID+"/c/"+c.ReplyComment.IDStr)
				}
			}
			p.Metrics.Likes = c.LikeCount
			p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
			b.Posts = append(b.Posts, p)
		}
	}
	b.SortNewestFirst()
	return b, nil
}

func (s *Source) post(a *registry.Account, native, body, author, createdAt string, now time.Time) model.Post {
	published, err := time.Parse(createdAtLayout, createdAt)
	if err != nil {
		published = now
	}
	return model.Post{
		Schema: model.SchemaVersion, ID: model.PostID(a.Platform, a.ID, native), AccountID: a.ID,
		Platform: a.Platform, NativeID: native, Kind: model.KindPost, Text: text.PlainText(body),
		Author: author, PublishedAt: published.UTC(), CollectedAt: now,
	}
}

// get calls path with the token in the Authorization header (never in the
// URL, which error messages and logs carry) and decodes the answer.
func (s *Source) get(ctx context.Context, path string, q url.Values, tok string, out any) error {
	u := strings.TrimRight(s.base(), "/") + path + "?" + q.Encode()
	resp, err := s.Client.Do(ctx, fetch.Request{URL: u, Header: http.Header{"Authorization": {"OAuth2 " + tok}}})
	if err != nil {
		var se *fetch.StatusError
		if errors.As(err, &se) {
			if ae := apiError(path, se.Body); ae != nil {
				return ae
			}
		}
		return err
	}
	if ae := apiError(path, resp.Body); ae != nil {
		return ae
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &fetch.ParseError{URL: u, Err: err}
	}
	return nil
}

func apiError(path string, body []byte) *fetch.APIError {
	var e struct {
		Error     string `json:"error"`
		ErrorCode int    `json:"error_code"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrorCode == 0 {
		return nil
	}
	return errorCodes.Error(path, e.ErrorCode, e.Error)
}

// avatarKey drops the size and CDN parts that change without the image
// changing: the file name identifies the picture.
func avatarKey(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}

func hash(s string) string {
	if s == "" {
		return ""
	}
	h := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(h[:])
}

func (s *Source) base() string {
	if s.BaseURL != "" {
		return s.BaseURL
	}
	return DefaultBaseURL
}

func (s *Source) clock() clockwork.Clock { return source.Clock(s.Clock) }

// Package robot is what the chat robot channels (DingTalk, WeCom, Feishu)
// share: one JSON POST to a webhook URL that carries a credential, with the
// answer's HTTP status classified, the platform's error code read from the
// body (the platforms answer HTTP 200 on failure) and the URL kept out of
// every error. A channel describes its platform once (a Platform) and builds
// its messages. The webhook and SMS channels, which build their own
// requests, use its client, status classification and URL stripping too.
package robot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
)

// DefaultTimeout bounds one attempt when the configuration sets none.
const DefaultTimeout = 10 * time.Second

// maxBody is how much of an answer is read.
const maxBody = 64 << 10

// NewClient returns the client robots use when none is given: it does not
// follow redirects, so a credential in the URL never travels elsewhere.
func NewClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// Encode marshals v as JSON without escaping <, > and & (the platforms read
// them as text; escaping only makes messages larger).
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Platform is what a channel says about its chat platform: where its
// robots are, their rate limit, and how its answers refuse a message.
type Platform struct {
	// Name is the channel's name, in errors and rate limit keys.
	Name string
	// URL is the robot endpoint a configuration that sets none uses.
	URL string
	// Limits are one robot's documented rate limits.
	Limits []ratelimit.Limit
	// Answer names the answer's fields.
	Answer Answer
	// Retryable are the error codes worth retrying (busy, throttled).
	Retryable map[int64]bool
	// Msg, when set, rewrites an error message before it goes into an
	// error (to drop what the platform appends to it).
	Msg func(string) string
}

// Answer names the fields of a platform's answer that hold its error code,
// 0 when the message was accepted, and the code's message.
type Answer struct{ Code, Msg string }

// The answers of the platforms.
var (
	// ErrCode is how DingTalk and WeCom answer: {"errcode":0,"errmsg":"ok"}.
	ErrCode = Answer{Code: "errcode", Msg: "errmsg"}
	// Code is how Feishu answers: {"code":0,"msg":"success"}.
	Code = Answer{Code: "code", Msg: "msg"}
)

// Endpoint is url, or the platform's URL when url is empty, once it is an
// absolute http or https URL.
func (p *Platform) Endpoint(url string) (string, error) {
	if url == "" {
		url = p.URL
	}
	if render.SafeURL(url) == "" {
		return "", fmt.Errorf("%s url: want an absolute http or https URL", p.Name)
	}
	return url, nil
}

// Judge reads the platform's error code from an answer's body: nil for 0,
// otherwise an *Error, retryable when its code is in p.Retryable. An answer
// without a code is a retryable error quoting its start.
func (p *Platform) Judge(raw []byte) error {
	code, msg, ok := p.Answer.read(raw)
	if !ok {
		article := "a"
		if strings.ContainsRune("aeiou", rune(p.Answer.Code[0])) {
			article = "an"
		}
		return fmt.Errorf("%s answered without %s %s: %q", p.Name, article, p.Answer.Code, Head(raw))
	}
	if code == 0 {
		return nil
	}
	if p.Msg != nil {
		msg = p.Msg(msg)
	}
	return Classify(&Error{Platform: p.Name, Code: code, Msg: msg}, p.Retryable)
}

// read decodes an answer's code and message; ok is false when raw is not
// a JSON object with a numeric code (not null) and, if any, a string
// message.
func (a Answer) read(raw []byte) (code int64, msg string, ok bool) {
	var fields map[string]json.RawMessage
	var c *int64
	if json.Unmarshal(raw, &fields) != nil || json.Unmarshal(fields[a.Code], &c) != nil || c == nil {
		return 0, "", false
	}
	if m, has := fields[a.Msg]; has && json.Unmarshal(m, &msg) != nil {
		return 0, "", false
	}
	return *c, msg, true
}

// Sender posts to one robot: the client and the bound on one attempt, and
// the robot's share of the platform's rate limit across replicas. It is
// safe for concurrent use.
type Sender struct {
	platform *Platform
	robotID  string
	limiter  *ratelimit.Limiter
	client   *http.Client
	timeout  time.Duration
}

// NewSender returns the sender to the platform's robot whose credential
// (token or key) is credential. A nil limiter keeps no rate limit; a nil
// client means NewClient(); a timeout of 0 means DefaultTimeout.
func NewSender(p *Platform, credential string, limiter *ratelimit.Limiter, client *http.Client, timeout time.Duration) *Sender {
	if client == nil {
		client = NewClient()
	}
	return &Sender{
		platform: p, robotID: ratelimit.RobotID(credential),
		limiter: limiter, client: client, timeout: timeout,
	}
}

// Send takes one send from the robot's rate limit, posts body to target
// once as Post does and judges the answer as the platform's Judge. A
// reached limit is a retryable error wrapping ratelimit.ErrLimited.
func (s *Sender) Send(ctx context.Context, target string, body []byte) error {
	name := s.platform.Name
	if s.limiter != nil {
		if err := s.limiter.Take(ctx, name, s.robotID, s.platform.Limits...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	raw, err := Post(ctx, s.client, name, target, body, s.timeout)
	if err != nil {
		return err
	}
	return s.platform.Judge(raw)
}

// Post sends body to target as JSON once, within timeout, and returns the
// answer's body when the status is 2xx. Network failures, timeouts, 429 and
// 5xx are retryable; other statuses are permanent. Errors name the platform
// and never the URL, which holds the robot's token.
func Post(ctx context.Context, client *http.Client, platform, target string, body []byte, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("build %s request: bad url", platform))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "govwatch-notifier")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", platform, StripURL(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read %s answer: %w", platform, StripURL(err))
	}
	if err := CheckStatus(platform, resp.StatusCode, string(Head(answer))); err != nil {
		return nil, err
	}
	return answer, nil
}

// CheckStatus classifies an answer's HTTP status for a channel: nil for
// 2xx, a retryable error for 429 and 5xx, a permanent one otherwise. The
// error names who answered and quotes head, the start of the answer, which
// must hold nothing secret.
func CheckStatus(who string, status int, head string) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("%s answered %d: %q", who, status, head)
	default:
		return channel.Permanent(fmt.Errorf("%s answered %d: %q", who, status, head))
	}
}

// StripURL removes the URL a *url.Error repeats (it may hold a token),
// keeping the cause.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Head is the first 200 bytes of an answer, for errors.
func Head(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// Error is a platform's refusal read from an answer's body: its error code
// and message.
type Error struct {
	Platform string
	Code     int64
	Msg      string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s error %d: %s", e.Platform, e.Code, e.Msg)
}

// Classify wraps a platform error as retryable when its code is in
// retryable, permanent otherwise.
func Classify(e *Error, retryable map[int64]bool) error {
	if retryable[e.Code] {
		return e
	}
	return channel.Permanent(e)
}

// Package robot is what the chat robot channels (DingTalk, WeCom, Feishu)
// share: one JSON POST to a webhook URL that carries a credential, with the
// answer's HTTP status classified and the URL kept out of every error. Each
// channel then reads its platform's error code from the body, because the
// platforms answer HTTP 200 on failure. The webhook and SMS channels, which
// build their own requests, use its client, status classification and URL
// stripping too.
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
	"time"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
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

// Sender posts to one robot: the client and the bound on one attempt, and
// the robot's share of the platform's rate limit across replicas. It is
// safe for concurrent use.
type Sender struct {
	platform string
	robotID  string
	limiter  *ratelimit.Limiter
	limits   []ratelimit.Limit
	client   *http.Client
	timeout  time.Duration
}

// NewSender returns the sender to the platform's robot whose credential
// (token or key) is credential. A nil limiter keeps no rate limit; a nil
// client means NewClient(); a timeout of 0 means DefaultTimeout.
func NewSender(platform, credential string, limiter *ratelimit.Limiter, limits []ratelimit.Limit, client *http.Client, timeout time.Duration) *Sender {
	if client == nil {
		client = NewClient()
	}
	return &Sender{
		platform: platform, robotID: ratelimit.RobotID(credential),
		limiter: limiter, limits: limits, client: client, timeout: timeout,
	}
}

// Send takes one send from the robot's rate limit, then posts body to
// target once as Post does. A reached limit is a retryable error wrapping
// ratelimit.ErrLimited.
func (s *Sender) Send(ctx context.Context, target string, body []byte) ([]byte, error) {
	if s.limiter != nil {
		if err := s.limiter.Take(ctx, s.platform, s.robotID, s.limits...); err != nil {
			return nil, fmt.Errorf("%s: %w", s.platform, err)
		}
	}
	return Post(ctx, s.client, s.platform, target, body, s.timeout)
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

package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
)

// Server is the fake platform. It holds no mutable state: every feed is
// rendered from the scenario, the moment the server started and the clock's
// current time.
type Server struct {
	sc       *Scenario
	clock    clockwork.Clock
	start    time.Time
	accounts map[string]*AccountScenario
}

// New returns a server for sc reading time from clock. The clock's time now,
// to the second, is the server's start, which anchors the script (see
// Start). Defaults are applied to a copy of sc; sc itself is left untouched.
// Call Scenario.Validate first on scenarios not read by LoadScenario.
func New(sc *Scenario, clock clockwork.Clock) *Server {
	cp := *sc
	cp.Accounts = append([]AccountScenario(nil), sc.Accounts...)
	cp.setDefaults()
	s := &Server{sc: &cp, clock: clock, start: clock.Now().Truncate(time.Second), accounts: make(map[string]*AccountScenario)}
	for i := range cp.Accounts {
		s.accounts[cp.Accounts[i].ID] = &cp.Accounts[i]
	}
	return s
}

// Start is the moment the server was made, to the second. The scripted
// incidents count from it, not from the clock's current time, so a script
// means the same whenever it runs and however long it runs:
//
//   - an account with silent_days N publishes its newest post exactly
//     N × 24 h before Start, and nothing after it, however far the clock
//     moves: the post is N days old at Start and ages with the clock;
//   - an incident with days_ago D goes out at 09:30 Beijing time on the day
//     D days before Start's day (Beijing time); with D = 0 and a start
//     before 09:30 it appears once the clock reaches 09:30.
//
// Ordinary posts follow the clock: they appear as their time comes, and the
// oldest day drops out at midnight Beijing time.
func (s *Server) Start() time.Time { return s.start }

// LastPost is when the newest post of a silent account was published,
// Start minus silent_days × 24 h; it is zero for an account that is not
// silent or not served.
func (s *Server) LastPost(accountID string) time.Time {
	a, ok := s.accounts[accountID]
	if !ok || a.Incidents.SilentDays <= 0 {
		return time.Time{}
	}
	return s.lastPost(a)
}

// FeedPath is the path of an account's feed relative to where the handler is
// mounted, e.g. "/feeds/fz-wechat.atom".
func (s *Server) FeedPath(accountID string) string {
	a, ok := s.accounts[accountID]
	if !ok {
		return ""
	}
	return "/feeds/" + a.ID + "." + a.Format
}

// Posts returns the posts an account's feed carries now, newest first.
func (s *Server) Posts(accountID string) []Post {
	a, ok := s.accounts[accountID]
	if !ok {
		return nil
	}
	return s.posts(a, s.clock.Now())
}

// Handler serves GET /feeds/<account_id>.<rss|atom|json>, with an ETag and a
// Last-Modified on every response and 304 on a matching If-None-Match or
// If-Modified-Since.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/{file}", s.serveFeed)
	return mux
}

func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 {
		http.NotFound(w, r)
		return
	}
	a, ok := s.accounts[file[:dot]]
	if !ok || a.Format != file[dot+1:] {
		http.NotFound(w, r)
		return
	}
	posts := s.posts(a, s.clock.Now())
	var modified time.Time
	if len(posts) > 0 {
		modified = posts[0].Published
	}
	body, err := s.render(a, posts, modified)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	w.Header().Set("Content-Type", contentType(a))
	w.Header().Set("Cache-Control", "no-cache")
	if modified.IsZero() {
		modified = time.Unix(0, 0)
	}
	// ServeContent answers If-None-Match (which wins) and If-Modified-Since
	// with 304 and sets Last-Modified.
	http.ServeContent(w, r, file, modified, bytes.NewReader(body))
}

// contentType names the charset in the header only for utf-8 feeds: a gbk
// feed declares its encoding in the XML declaration alone.
func contentType(a *AccountScenario) string {
	switch {
	case a.Format == FormatJSON:
		return "application/feed+json; charset=utf-8"
	case a.Encoding == EncodingGBK && a.Format == FormatAtom:
		return "application/atom+xml"
	case a.Encoding == EncodingGBK:
		return "application/rss+xml"
	case a.Format == FormatAtom:
		return "application/atom+xml; charset=utf-8"
	default:
		return "application/rss+xml; charset=utf-8"
	}
}

// Run serves the scenario on addr with the real clock until ctx is done.
func Run(ctx context.Context, addr string, sc *Scenario, log *zap.Logger) error {
	s := New(sc, clockwork.NewRealClock())
	return listenAndServe(ctx, addr, s.Handler(), func(addr string) {
		for _, a := range s.sc.Accounts {
			log.Info("serving feed", zap.String("account_id", a.ID),
				zap.String("url", "http://"+addr+s.FeedPath(a.ID)))
		}
	}, nil)
}

// listenAndServe serves h on addr until ctx is done, then shuts the server
// down, giving requests in flight five seconds. listening, when set, is
// called with the address once it listens; stopping, when set, once ctx is
// done and before the shutdown.
func listenAndServe(ctx context.Context, addr string, h http.Handler, listening func(addr string), stopping func()) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if listening != nil {
		listening(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("simulate: %w", err)
	case <-ctx.Done():
	}
	if stopping != nil {
		stopping()
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("simulate shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("simulate: %w", err)
	}
	return nil
}

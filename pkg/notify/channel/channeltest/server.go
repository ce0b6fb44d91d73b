package channeltest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Platform describes a chat platform's endpoint to NewServer.
type Platform struct {
	// Path is the only path served, to POST requests; others are not
	// found. Empty: Check judges every request.
	Path string
	// OK is the answer to an accepted request.
	OK string
	// Reply is the platform's answer refusing a request with code and
	// msg, encoded as JSON.
	Reply func(code int, msg string) any
	// Check judges a request as the platform would: the code and message
	// refusing it, or code 0 to accept it. body is raw decoded, nil when
	// raw is not JSON.
	Check func(r *http.Request, raw []byte, body map[string]any) (code int, msg string)
}

// Request is a request a Server accepted.
type Request struct {
	Body  map[string]any
	Query string // the raw query
	Size  int    // of the raw body, in bytes
}

// Server is a Platform's endpoint on an httptest server: it records the
// requests it accepts and answers them, as the platforms do, with 200 and
// a code in the body.
type Server struct {
	*httptest.Server
	// Answer, when set, replaces the answer to accepted requests; Status,
	// when set, their HTTP status.
	Answer string
	Status int

	platform Platform
	mu       sync.Mutex
	accepted []Request
}

// NewServer starts p's endpoint; it closes when the test ends.
func NewServer(t *testing.T, p Platform) *Server {
	t.Helper()
	s := &Server{platform: p}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if s.platform.Path != "" && (r.Method != http.MethodPost || r.URL.Path != s.platform.Path) {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		body = nil
	}
	if code, msg := s.platform.Check(r, raw, body); code != 0 {
		json.NewEncoder(w).Encode(s.platform.Reply(code, msg))
		return
	}
	s.mu.Lock()
	s.accepted = append(s.accepted, Request{Body: body, Query: r.URL.RawQuery, Size: len(raw)})
	s.mu.Unlock()
	if s.Status != 0 {
		w.WriteHeader(s.Status)
	}
	if s.Answer != "" {
		io.WriteString(w, s.Answer)
		return
	}
	io.WriteString(w, s.platform.OK)
}

// Requests are the requests accepted so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.accepted...)
}

// Count is how many requests were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// Last is the last request accepted; the test fails when there is none.
func (s *Server) Last(t *testing.T) Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.accepted) == 0 {
		t.Fatal("the platform received nothing")
	}
	return s.accepted[len(s.accepted)-1]
}

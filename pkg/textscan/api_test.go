package textscan

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

func postCheck(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(body)))
	return rec
}

// TestCheckHandlerBounds: a text of nothing but mobile numbers gets at most
// MaxCheckFindings findings and says it was capped; a body over
// MaxCheckBody is refused with 413 naming the limit.
func TestCheckHandlerBounds(t *testing.T) {
	e := testEngine(t)
	h := CheckHandler(func() *Engine { return e })

	phones := strings.Repeat("电话13800138000，", 3000)
	rec := postCheck(t, h, `{"text": "`+phones+`"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp CheckResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Findings) != MaxCheckFindings || !resp.Capped {
		t.Errorf("got %d findings, capped %v; want %d and capped", len(resp.Findings), resp.Capped, MaxCheckFindings)
	}

	rec = postCheck(t, h, `{"text": "`+phones[:30]+`"}`)
	resp = CheckResponse{}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Findings) == 0 || resp.Capped {
		t.Errorf("short text: got %d findings, capped %v; want some, not capped", len(resp.Findings), resp.Capped)
	}

	rec = postCheck(t, h, `{"text": "`+strings.Repeat("a", MaxCheckBody)+`"}`)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "body larger than 1048576 bytes") {
		t.Errorf("oversized body: got %d %s, want 413 naming the limit", rec.Code, rec.Body)
	}
}

// TestCheckHandlerBodyCutOff: a draft the server's read timeout cut off is
// answered 408, not as bad JSON.
func TestCheckHandlerBodyCutOff(t *testing.T) {
	e := testEngine(t)
	h := CheckHandler(func() *Engine { return e })
	rec := httptest.NewRecorder()
	body := io.MultiReader(strings.NewReader(`{"text": "澳门`), iotest.ErrReader(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}))
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/check", body))
	if rec.Code != http.StatusRequestTimeout || !strings.Contains(rec.Body.String(), "read timeout") {
		t.Errorf("got %d %s, want 408 naming the read timeout", rec.Code, rec.Body)
	}
}

package notify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// concretePath turns a route's pattern into a method and a path to request.
func concretePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	for _, p := range []string{"{fingerprint}", "{id}", "{token}"} {
		path = strings.ReplaceAll(path, p, "0123abcd")
	}
	return method, path
}

// TestTokensOutsideTheirScope walks every route the API registers: with no
// token or a wrong one each guarded route answers 401, and an editor's check
// token, which may only check drafts, 403; the draft check takes the check
// token and refuses the others. A new guarded route is covered as it is
// added to routes().
func TestTokensOutsideTheirScope(t *testing.T) {
	tokens := []Token{{Secret: []byte("admin-token-0123456")}, {Unit: "fz-gov", Secret: []byte("fz-token-0123456")}, {Check: true, Secret: []byte("editor-token-0123")}}
	f := newEscAPI(t, tokens)
	api := newTestAPI(t, f.n.Notifier, f.signer, NewAuth(tokens, testDirectory(t).Registry))
	guarded := 0
	for _, rt := range api.routes() {
		if !rt.guarded {
			continue
		}
		guarded++
		method, path := concretePath(rt.pattern)
		for _, tc := range []struct {
			who, token string
			want       int
		}{{"no token", "", http.StatusUnauthorized}, {"a wrong token", "not-a-token-0123456", http.StatusUnauthorized}, {"the check token", "editor-token-0123", http.StatusForbidden}} {
			code, body := f.do(t, method, path, tc.token, "application/json", `{}`)
			if code != tc.want {
				t.Errorf("%s %s with %s: got %d %s, want %d", method, path, tc.who, code, body, tc.want)
			}
		}
	}
	if guarded < 17 {
		t.Errorf("walked %d guarded routes, want all 17 or more", guarded)
	}
	checked := 0
	check := NewAuth(tokens, testDirectory(t).Registry).Checker(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		checked++
		w.WriteHeader(http.StatusOK)
	}))
	for _, tc := range []struct {
		who, token string
		want       int
	}{{"no token", "", 401}, {"a wrong token", "not-a-token-0123456", 401}, {"the check token", "editor-token-0123", 200}, {"a unit token", "fz-token-0123456", 200}, {"the admin token", "admin-token-0123456", 200}} {
		req := httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(`{"text": "x"}`))
		req.Header.Set("Content-Type", "application/json")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		check.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("POST /api/v1/check with %s: got %d %s, want %d", tc.who, rec.Code, rec.Body, tc.want)
		}
	}
	if checked != 3 {
		t.Errorf("the check ran %d times, want 3 (only for known tokens)", checked)
	}
}

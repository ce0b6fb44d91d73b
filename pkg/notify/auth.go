package notify

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net/http"
	"strings"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Auth guards the API with bearer tokens. A unit's token sees and acts on
// the alerts of its unit and of the units below it in the registry; an
// admin token sees all and alone manages silences; an editor's check token
// may only check drafts (POST /api/v1/check, see Auth.Checker) and is
// refused everywhere else. The one-click links (/ack/{token}) carry their
// own signature and need no bearer token.
//
// With no tokens configured the notifier builds no Auth and the API is open:
// that suits the one-machine demo on loopback, not a shared network.
type Auth struct {
	tokens []authToken
	reg    *registry.Registry
}

type authToken struct {
	sum   [32]byte // SHA-256 of the token: compared in constant time
	unit  string   // "" for admin
	check bool     // an editor's token: checks drafts only
}

// Token is one configured bearer token.
type Token struct {
	Unit   string // "" for an admin token
	Check  bool   // an editor's token, which may only check drafts (Unit is ignored)
	Secret []byte
}

// NewAuth returns an Auth for tokens; nil when there are none.
func NewAuth(tokens []Token, reg *registry.Registry) *Auth {
	if len(tokens) == 0 {
		return nil
	}
	a := &Auth{reg: reg}
	for _, t := range tokens {
		at := authToken{sum: sha256.Sum256(t.Secret), unit: t.Unit, check: t.Check}
		if t.Check {
			at.unit = ""
		}
		a.tokens = append(a.tokens, at)
	}
	return a
}

// scope is what a request may see. A check-only scope sees nothing.
type scope struct {
	admin     bool
	checkOnly bool
	unit      string
	reg       *registry.Registry
}

var adminScope = scope{admin: true}

// sees reports whether the scope covers alerts of unit.
// seesSilence reports whether the token may read silence si: an admin
// every one, a unit's token those that name, with an equality matcher on
// unit, a unit it sees. A silence without one spans units: admins only.
func (s scope) seesSilence(si silence.Silence) bool {
	if s.admin {
		return true
	}
	for _, m := range si.Matchers {
		if m.Name == model.LabelUnit && !m.IsRegex && (m.IsEqual == nil || *m.IsEqual) && s.sees(m.Value) {
			return true
		}
	}
	return false
}

func (s scope) sees(unit string) bool {
	if s.admin {
		return true
	}
	if s.checkOnly || s.unit == "" {
		return false
	}
	if s.reg == nil {
		return unit == s.unit
	}
	for _, u := range s.reg.Chain(unit) {
		if u.ID == s.unit {
			return true
		}
	}
	return false
}

// check returns the scope of r's bearer token.
func (a *Auth) check(r *http.Request) (scope, bool) {
	if a == nil {
		return adminScope, true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return scope{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var hit *authToken
	for i := range a.tokens {
		// Every token is compared, so the time taken tells nothing.
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].sum[:]) == 1 {
			hit = &a.tokens[i]
		}
	}
	if hit == nil {
		return scope{}, false
	}
	if hit.check {
		return scope{checkOnly: true}, true
	}
	return scope{admin: hit.unit == "", unit: hit.unit, reg: a.reg}, true
}

// Checker guards the draft check (POST /api/v1/check): every known token
// may call it, an editor's check token included; none, or an unknown one,
// gets 401, and a body that is not JSON 415. A nil Auth leaves it open to
// every JSON body, as it leaves the API.
func (a *Auth) Checker(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.check(r); !ok {
			unauthorized(w)
			return
		}
		if !jsonBody(r) {
			// As on the API: another site's page may send text/plain or a
			// form here without asking, JSON it may not.
			httpError(w, http.StatusUnsupportedMediaType, "send the body as application/json, not %q", r.Header.Get("Content-Type"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="govwatch"`)
	httpError(w, http.StatusUnauthorized, "missing or unknown bearer token")
}

// guard wraps an API handler with the bearer-token check.
func (api *API) guard(h func(http.ResponseWriter, *http.Request, scope)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := api.auth.check(r)
		if !ok {
			unauthorized(w)
			return
		}
		if s.checkOnly {
			httpError(w, http.StatusForbidden, "this token may only check drafts (POST /api/v1/check)")
			return
		}
		if !jsonBody(r) {
			// A page of another site can send text/plain or a form to this
			// API without asking; JSON it cannot.
			httpError(w, http.StatusUnsupportedMediaType, "send the body as application/json, not %q", r.Header.Get("Content-Type"))
			return
		}
		h(w, r, s)
	}
}

// jsonBody reports whether r carries no body or a JSON one.
func jsonBody(r *http.Request) bool {
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

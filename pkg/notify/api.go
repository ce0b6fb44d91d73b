package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/notify/silence"
)

// maxBody caps the bodies of silences, and by default of posted alerts.
const maxBody = 1 << 20

// maxActionBody caps the bodies of a duty action (acknowledge, resolve, the
// one-click link's form) and of an allow entry: a name and a note.
const maxActionBody = 64 << 10

// DefaultMaxAlerts is how many alerts one POST /api/v2/alerts may carry
// unless APIOptions say otherwise.
const DefaultMaxAlerts = 1000

// State is what the API needs of the notifier: its alerts, their lifecycle
// and silences. *Notifier is one; the API holds no state of its own.
type State interface {
	// Alerts lists the alerts' records, with active set only open ones,
	// most severe and newest first.
	Alerts(ctx context.Context, active bool) ([]Record, error)
	// Record returns one alert's record, or ErrNoAlert.
	Record(ctx context.Context, fp string) (*Record, error)
	// Accept takes alerts posted on the API and returns once none of them
	// can be lost; they are processed afterwards.
	Accept(ctx context.Context, alerts []model.Alert) error
	// Acknowledge and Resolve act on an incident (0: the current one).
	Acknowledge(ctx context.Context, fp string, incident int, by, note string) (*Record, error)
	Resolve(ctx context.Context, fp string, incident int, by, note string) (*Record, error)
	// Report renders an incident's upstream report.
	Report(ctx context.Context, fp string) (string, error)
	// Mutes reads the silences once, takes active as the active alerts,
	// and tells what mutes each record.
	Mutes(ctx context.Context, active []Record) (func(*Record) Mute, error)
	// Silences are the silences in the store.
	Silences() *silence.Silences
	// Allows are the allow entries of content findings in the store.
	Allows() *allow.Entries
	// UnitName is a unit's name as people read it.
	UnitName(id, fallback string) string
}

// APIOptions build an API.
type APIOptions struct {
	Clock clockwork.Clock // required
	Log   *zap.Logger     // required
	// Signer verifies the one-click links; nil turns them off.
	Signer *ack.Signer
	// Auth guards the API; nil leaves it open.
	Auth *Auth
	// Status is what /api/v2/status, /api/v2/receivers and
	// /api/v2/alerts/groups report of the notifier's set-up; nil reports a
	// notifier with no routes or receivers known.
	Status *Status
	// MaxBody bounds the body of POST /api/v2/alerts (0: 1 MiB) and
	// MaxAlerts the alerts in it (0: DefaultMaxAlerts); more gets 413.
	MaxBody   int64
	MaxAlerts int
}

// API serves the notifier's HTTP API: a subset of Alertmanager's v2 API
// (alerts, silences), the duty actions (acknowledge, resolve, report) and
// the one-click links' pages.
type API struct {
	state  State
	clock  clockwork.Clock
	log    *zap.Logger
	signer *ack.Signer
	auth   *Auth
	setup  Status
	// maxBody and maxAlerts bound POST /api/v2/alerts.
	maxBody   int64
	maxAlerts int
}

// NewAPI returns the API over state.
func NewAPI(state State, o APIOptions) (*API, error) {
	if state == nil || o.Clock == nil || o.Log == nil {
		return nil, errors.New("notifier api: needs the notifier's state, a clock and a logger")
	}
	api := &API{state: state, clock: o.Clock, log: o.Log, signer: o.Signer, auth: o.Auth, maxBody: o.MaxBody, maxAlerts: o.MaxAlerts}
	if api.maxBody <= 0 {
		api.maxBody = maxBody
	}
	if api.maxAlerts <= 0 {
		api.maxAlerts = DefaultMaxAlerts
	}
	if o.Status != nil {
		api.setup = *o.Status
	}
	if api.setup.Started.IsZero() {
		api.setup.Started = o.Clock.Now()
	}
	return api, nil
}

// Routes registers the notifier's API on mux:
//
//	GET    /api/v1/alerts                    active alerts (?all=1: resolved too) with labels, annotations and timeline
//	POST   /api/v1/alerts/{fingerprint}/ack     acknowledge: JSON {by, note}; stops escalation
//	POST   /api/v1/alerts/{fingerprint}/resolve resolve by hand: JSON {by, note}
//	GET    /api/v1/alerts/{fingerprint}/report  the upstream report, as text
//	POST   /api/v1/findings/allow            mark an alert's content finding as not a problem: JSON {fingerprint, scope, reason, by, rule?, match?}; resolves the alert
//	GET    /api/v1/findings/allow            the allow entries
//	DELETE /api/v1/findings/allow/{id}       remove an allow entry
//	POST   /api/v2/alerts                    Alertmanager's API: a JSON array of alerts
//	GET    /api/v2/alerts                    Alertmanager's API: active alerts, filter=label matchers
//	POST   /api/v2/silences                  Alertmanager's API: create or update a silence
//	GET    /api/v2/silences                  Alertmanager's API: list silences, filter=label matchers
//	GET    /api/v2/silence/{id}              one silence
//	DELETE /api/v2/silence/{id}              expire a silence (also /api/v2/silences/{id})
//	GET    /api/v2/alerts/groups             Alertmanager's API: active alerts grouped as the routes group them
//	GET    /api/v2/status                    Alertmanager's API: version, routing tree and receivers as YAML, uptime, replica
//	GET    /api/v2/receivers                 Alertmanager's API: the receivers' names
//	GET    /ack/{token}                      the one-click link's confirmation page (changes nothing)
//	POST   /ack/{token}                      the confirmation page's button: acknowledge or resolve
//
// Everything under /api is guarded by APIOptions.Auth; the links carry their
// own signature.
func (api *API) Routes(mux *http.ServeMux) {
	for _, rt := range api.routes() {
		mux.HandleFunc(rt.pattern, rt.handler)
	}
}

// apiRoute is one route of the API; guarded ones take a bearer token.
type apiRoute struct {
	pattern string
	handler http.HandlerFunc
	guarded bool
}

// routes are the API's routes, which Routes registers and the access tests
// walk, so that no route escapes them.
func (api *API) routes() []apiRoute {
	return []apiRoute{
		{"GET /api/v1/alerts", api.guard(api.listV1), true},
		{"POST /api/v1/alerts/{fingerprint}/ack", api.guard(api.ackAPI), true},
		{"POST /api/v1/alerts/{fingerprint}/resolve", api.guard(api.resolveAPI), true},
		{"GET /api/v1/alerts/{fingerprint}/report", api.guard(api.reportAPI), true},
		{"POST /api/v1/findings/allow", api.guard(api.postAllow), true},
		{"GET /api/v1/findings/allow", api.guard(api.listAllow), true},
		{"DELETE /api/v1/findings/allow/{id}", api.guard(api.deleteAllow), true},
		{"POST /api/v2/alerts", api.guard(api.postV2), true},
		{"GET /api/v2/alerts", api.guard(api.listV2), true},
		{"POST /api/v2/silences", api.guard(api.postSilence), true},
		{"GET /api/v2/silences", api.guard(api.listSilences), true},
		{"GET /api/v2/silence/{id}", api.guard(api.getSilence), true},
		{"DELETE /api/v2/silence/{id}", api.guard(api.deleteSilence), true},
		{"DELETE /api/v2/silences/{id}", api.guard(api.deleteSilence), true},
		{"GET /api/v2/alerts/groups", api.guard(api.groupsV2), true},
		{"GET /api/v2/status", api.guard(api.statusV2), true},
		{"GET /api/v2/receivers", api.guard(api.receiversV2), true},
		{"GET /ack/{token}", api.linkPage, false},
		{"POST /ack/{token}", api.linkAction, false},
	}
}

// alertView is one alert in /api/v1/alerts.
type alertView struct {
	Fingerprint  string            `json:"fingerprint"`
	Status       string            `json:"status"`
	Incident     int               `json:"incident"`
	Labels       model.LabelSet    `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	FirstSeen    time.Time         `json:"firstSeen"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Receivers    []string          `json:"receivers"`
	Timeline     []Event           `json:"timeline"`
	Ack          *Action           `json:"ack,omitempty"`
	Resolution   *Action           `json:"resolution,omitempty"`
	Pages        []Page            `json:"pages"`
	Veto         bool              `json:"veto,omitempty"`
}

func (api *API) listV1(w http.ResponseWriter, r *http.Request, sc scope) {
	recs, err := api.state.Alerts(r.Context(), r.URL.Query().Get("all") == "")
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read alerts: %v", err)
		return
	}
	out := make([]alertView, 0, len(recs))
	for i := range recs {
		if !sc.sees(recs[i].Alert.Labels[model.LabelUnit]) {
			continue
		}
		out = append(out, viewOf(&recs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// postableAlert is Alertmanager's API v2 input.
type postableAlert struct {
	Labels       model.LabelSet    `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func (api *API) postV2(w http.ResponseWriter, r *http.Request, sc scope) {
	in, ok := api.readPostables(w, r)
	if !ok {
		return
	}
	var problems []string
	alerts := make([]model.Alert, 0, len(in))
	for i, p := range in {
		if err := validatePostable(&p); err != nil {
			problems = append(problems, fmt.Sprintf("alerts[%d]: %v", i, err))
			continue
		}
		if !sc.sees(p.Labels[model.LabelUnit]) {
			httpError(w, http.StatusForbidden, "alerts[%d]: unit %q is outside this token's units", i, p.Labels[model.LabelUnit])
			return
		}
		// The notifier gives a missing startsAt and endsAt their values
		// (as Alertmanager: an alert that is not repeated ends on its own).
		alerts = append(alerts, model.Alert{Labels: p.Labels, Annotations: p.Annotations, StartsAt: p.StartsAt, EndsAt: p.EndsAt, GeneratorURL: p.GeneratorURL})
	}
	if len(problems) > 0 {
		httpError(w, http.StatusBadRequest, "%s", strings.Join(problems, "; "))
		return
	}
	if err := api.state.Accept(r.Context(), alerts); err != nil {
		api.log.Warn("api alerts", zap.Int("alerts", len(alerts)), zap.Error(err))
		httpError(w, http.StatusServiceUnavailable, "alerts not taken, send them again: %v", err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readPostables decodes the JSON array of a POST /api/v2/alerts, element by
// element, and refuses with 413 a body over maxBody bytes or an array of
// more than maxAlerts alerts before reading further.
func (api *API) readPostables(w http.ResponseWriter, r *http.Request) ([]postableAlert, bool) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, api.maxBody))
	fail := func(err error) ([]postableAlert, bool) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes (notifier.api.max_body): send fewer alerts at a time", api.maxBody)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			httpError(w, http.StatusRequestTimeout, "%s", bodyTimeout)
		} else {
			httpError(w, http.StatusBadRequest, "body must be a JSON array of alerts (at most %d bytes): %v", api.maxBody, err)
		}
		return nil, false
	}
	tok, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fail(fmt.Errorf("got %v, want [", tok))
	}
	var in []postableAlert
	for dec.More() {
		if len(in) == api.maxAlerts {
			httpError(w, http.StatusRequestEntityTooLarge, "more than %d alerts in one request (notifier.api.max_alerts): send them in batches", api.maxAlerts)
			return nil, false
		}
		var p postableAlert
		if err := dec.Decode(&p); err != nil {
			return fail(fmt.Errorf("alerts[%d]: %w", len(in), err))
		}
		in = append(in, p)
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	return in, true
}

func validatePostable(p *postableAlert) error {
	if len(p.Labels) == 0 {
		return fmt.Errorf("no labels")
	}
	for k, v := range p.Labels {
		if !match.ValidLabelName(k) {
			return fmt.Errorf("invalid label name %q", match.Clip(k))
		}
		if v == "" {
			return fmt.Errorf("label %q is empty", match.Clip(k))
		}
	}
	if p.Labels[model.LabelAlertname] == "" {
		return fmt.Errorf("no alertname label")
	}
	if !p.EndsAt.IsZero() && !p.StartsAt.IsZero() && p.EndsAt.Before(p.StartsAt) {
		return fmt.Errorf("endsAt %s is before startsAt %s", p.EndsAt.Format(time.RFC3339), p.StartsAt.Format(time.RFC3339))
	}
	return nil
}

// gettableAlert is Alertmanager's API v2 output; amtool reads it.
type gettableAlert struct {
	Labels       model.LabelSet    `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []receiverRef     `json:"receivers"`
	Status       alertStatus       `json:"status"`
}

type receiverRef struct {
	Name string `json:"name"`
}

type alertStatus struct {
	State       string   `json:"state"`
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
}

// filters reads Alertmanager's repeated filter= parameters.
func filters(r *http.Request) (match.Matchers, error) {
	var ms match.Matchers
	for _, f := range r.URL.Query()["filter"] {
		m, err := match.Parse(f)
		if err != nil {
			// The error names the matcher, clipped: f may be a megabyte.
			return nil, fmt.Errorf("filter: %v", err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// boolParam reads an Alertmanager boolean query parameter, def when absent.
func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	return v == "true" || v == "1"
}

func (api *API) listV2(w http.ResponseWriter, r *http.Request, sc scope) {
	if out, ok := api.gettables(w, r, sc); ok {
		writeJSON(w, http.StatusOK, out)
	}
}

// gettables are the active alerts as Alertmanager's API v2 lists them: those
// the request's filter and active, silenced and inhibited parameters keep
// and the token's units see. On a bad request or a store that does not
// answer it writes the error and reports false.
func (api *API) gettables(w http.ResponseWriter, r *http.Request, sc scope) ([]gettableAlert, bool) {
	ms, err := filters(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return nil, false
	}
	wantActive, wantSilenced, wantInhibited := boolParam(r, "active", true), boolParam(r, "silenced", true), boolParam(r, "inhibited", true)
	recs, err := api.state.Alerts(r.Context(), true)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read alerts: %v", err)
		return nil, false
	}
	mutes, err := api.state.Mutes(r.Context(), recs)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read silences: %v", err)
		return nil, false
	}
	out := []gettableAlert{}
	for _, rec := range recs {
		if !ms.Matches(rec.Alert.Labels) || !sc.sees(rec.Alert.Labels[model.LabelUnit]) {
			continue
		}
		m := mutes(&rec)
		silenced, inhibited := len(m.SilencedBy) > 0, len(m.InhibitedBy) > 0
		state := "active"
		if silenced || inhibited {
			state = "suppressed"
		}
		if state == "active" && !wantActive || silenced && !wantSilenced || inhibited && !wantInhibited {
			continue
		}
		ga := gettableAlert{
			Labels: rec.Alert.Labels, Annotations: rec.Alert.Annotations,
			StartsAt: rec.Alert.StartsAt, EndsAt: rec.Alert.EndsAt, UpdatedAt: rec.UpdatedAt,
			GeneratorURL: rec.Alert.GeneratorURL, Fingerprint: rec.Fingerprint,
			Receivers: []receiverRef{},
			Status:    alertStatus{State: state, SilencedBy: nonNil(m.SilencedBy), InhibitedBy: nonNil(m.InhibitedBy)},
		}
		for _, name := range rec.Receivers {
			ga.Receivers = append(ga.Receivers, receiverRef{Name: name})
		}
		out = append(out, ga)
	}
	return out, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// bodyTimeout is the answer to a body the server's read timeout cut off.
const bodyTimeout = "the body did not arrive within the server's read timeout (http.read_timeout)"

// bodyError answers a request whose JSON body could not be read: 413 when
// it was larger than limit bytes, 408 when it came too slowly for the
// server's read timeout, otherwise 400 saying what it must be (want).
func bodyError(w http.ResponseWriter, err error, limit int64, want string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		httpError(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes: it must be %s", limit, want)
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		httpError(w, http.StatusRequestTimeout, "%s", bodyTimeout)
		return
	}
	httpError(w, http.StatusBadRequest, "body must be %s: %v", want, err)
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"status": "error", "error": fmt.Sprintf(format, args...)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
)

// maxBody caps request bodies on the API.
const maxBody = 1 << 20

// Routes registers the notifier's API on mux:
//
//	GET  /api/v1/alerts   active alerts (?all=1: resolved too) with labels, annotations and timeline
//	POST /api/v2/alerts   Alertmanager's API: a JSON array of alerts
//	GET  /api/v2/alerts   Alertmanager's API: active alerts, filter=label matchers
func (n *Notifier) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts", n.listV1)
	mux.HandleFunc("POST /api/v2/alerts", n.postV2)
	mux.HandleFunc("GET /api/v2/alerts", n.listV2)
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
}

func (n *Notifier) listV1(w http.ResponseWriter, r *http.Request) {
	recs, err := n.Alerts(r.Context(), r.URL.Query().Get("all") == "")
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read alerts: %v", err)
		return
	}
	out := make([]alertView, 0, len(recs))
	for _, rec := range recs {
		out = append(out, alertView{
			Fingerprint: rec.Fingerprint, Status: rec.Status, Incident: rec.Incident,
			Labels: rec.Alert.Labels, Annotations: rec.Alert.Annotations,
			StartsAt: rec.Alert.StartsAt, EndsAt: rec.Alert.EndsAt,
			FirstSeen: rec.FirstSeen, UpdatedAt: rec.UpdatedAt, GeneratorURL: rec.Alert.GeneratorURL,
			Receivers: nonNil(rec.Receivers), Timeline: nonNil(rec.Timeline),
		})
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

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (n *Notifier) postV2(w http.ResponseWriter, r *http.Request) {
	var in []postableAlert
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(&in); err != nil {
		httpError(w, http.StatusBadRequest, "body must be a JSON array of alerts (at most %d bytes): %v", maxBody, err)
		return
	}
	now := n.o.Clock.Now()
	var problems []string
	alerts := make([]model.Alert, 0, len(in))
	for i, p := range in {
		if err := validatePostable(&p); err != nil {
			problems = append(problems, fmt.Sprintf("alerts[%d]: %v", i, err))
			continue
		}
		a := model.Alert{Labels: p.Labels, Annotations: p.Annotations, StartsAt: p.StartsAt, EndsAt: p.EndsAt, GeneratorURL: p.GeneratorURL}
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		if a.StartsAt.IsZero() {
			a.StartsAt = now
		}
		if a.EndsAt.IsZero() {
			// As Alertmanager: an alert that is not repeated ends on its own.
			a.EndsAt = now.Add(n.o.ResolveTimeout)
		}
		alerts = append(alerts, a)
	}
	if len(problems) > 0 {
		httpError(w, http.StatusBadRequest, "%s", strings.Join(problems, "; "))
		return
	}
	for i := range alerts {
		if err := n.Handle(r.Context(), &alerts[i]); err != nil {
			n.o.Log.Warn("api alert", zap.String("fingerprint", alerts[i].Fingerprint()), zap.Error(err))
			httpError(w, http.StatusServiceUnavailable, "alerts[%d]: %v", i, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func validatePostable(p *postableAlert) error {
	if len(p.Labels) == 0 {
		return fmt.Errorf("no labels")
	}
	for k, v := range p.Labels {
		if !labelName.MatchString(k) {
			return fmt.Errorf("invalid label name %q", k)
		}
		if v == "" {
			return fmt.Errorf("label %q is empty", k)
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

func (n *Notifier) listV2(w http.ResponseWriter, r *http.Request) {
	var ms []matcher
	for _, f := range r.URL.Query()["filter"] {
		m, err := parseMatcher(f)
		if err != nil {
			httpError(w, http.StatusBadRequest, "filter %q: %v", f, err)
			return
		}
		ms = append(ms, m)
	}
	recs, err := n.Alerts(r.Context(), true)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read alerts: %v", err)
		return
	}
	out := []gettableAlert{}
next:
	for _, rec := range recs {
		for _, m := range ms {
			if !m.matches(rec.Alert.Labels) {
				continue next
			}
		}
		ga := gettableAlert{
			Labels: rec.Alert.Labels, Annotations: rec.Alert.Annotations,
			StartsAt: rec.Alert.StartsAt, EndsAt: rec.Alert.EndsAt, UpdatedAt: rec.UpdatedAt,
			GeneratorURL: rec.Alert.GeneratorURL, Fingerprint: rec.Fingerprint,
			Receivers: []receiverRef{},
			Status:    alertStatus{State: "active", SilencedBy: []string{}, InhibitedBy: []string{}},
		}
		for _, name := range rec.Receivers {
			ga.Receivers = append(ga.Receivers, receiverRef{Name: name})
		}
		out = append(out, ga)
	}
	writeJSON(w, http.StatusOK, out)
}

// matcher is one Alertmanager label matcher: name, =, !=, =~ or !~, value.
type matcher struct {
	name, op, value string
	re              *regexp.Regexp
}

func parseMatcher(s string) (matcher, error) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "{}"))
	for _, op := range []string{"=~", "!~", "!=", "="} {
		if i := strings.Index(s, op); i > 0 {
			m := matcher{name: strings.TrimSpace(s[:i]), op: op, value: strings.Trim(strings.TrimSpace(s[i+len(op):]), `"`)}
			if !labelName.MatchString(m.name) {
				return m, fmt.Errorf("invalid label name %q", m.name)
			}
			if op == "=~" || op == "!~" {
				re, err := regexp.Compile("^(?:" + m.value + ")$")
				if err != nil {
					return m, err
				}
				m.re = re
			}
			return m, nil
		}
	}
	return matcher{}, fmt.Errorf("want name=value, name!=value, name=~re or name!~re")
}

func (m matcher) matches(ls model.LabelSet) bool {
	v := ls[m.name]
	switch m.op {
	case "=":
		return v == m.value
	case "!=":
		return v != m.value
	case "=~":
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
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

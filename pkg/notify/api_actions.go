package notify

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/silence"
)

// actionBody is the body of /ack and /resolve.
type actionBody struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

func (api *API) ackAPI(w http.ResponseWriter, r *http.Request, sc scope) {
	api.actionAPI(w, r, sc, api.state.Acknowledge)
}

func (api *API) resolveAPI(w http.ResponseWriter, r *http.Request, sc scope) {
	api.actionAPI(w, r, sc, api.state.Resolve)
}

type actionFunc func(ctx context.Context, fp string, incident int, by, note string) (*Record, error)

func (api *API) actionAPI(w http.ResponseWriter, r *http.Request, sc scope, do actionFunc) {
	fp := r.PathValue("fingerprint")
	var body actionBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBody)).Decode(&body); err != nil {
		bodyError(w, err, maxActionBody, `JSON {"by": "name", "note": "…"}`)
		return
	}
	if strings.TrimSpace(body.By) == "" {
		httpError(w, http.StatusBadRequest, "by: who acts is required")
		return
	}
	if !api.visible(r, w, sc, fp) {
		return
	}
	rec, err := do(r.Context(), fp, 0, body.By, body.Note)
	if !api.actionError(w, fp, err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": viewOf(rec)})
}

// visible answers 404 for alerts outside the token's units, as for unknown ones.
func (api *API) visible(r *http.Request, w http.ResponseWriter, sc scope, fp string) bool {
	rec, err := api.state.Record(r.Context(), fp)
	switch {
	case errors.Is(err, ErrNoAlert) || err == nil && !sc.sees(rec.Alert.Labels[model.LabelUnit]):
		httpError(w, http.StatusNotFound, "no alert %s", fp)
		return false
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, "read alert: %v", err)
		return false
	}
	return true
}

// actionError writes err's answer and reports whether there was none.
func (api *API) actionError(w http.ResponseWriter, fp string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNoAlert):
		httpError(w, http.StatusNotFound, "no alert %s", fp)
	case errors.Is(err, ErrIncidentOver):
		httpError(w, http.StatusConflict, "%v", err)
	default:
		if strings.Contains(err.Error(), "already resolved") || strings.Contains(err.Error(), "not firing") {
			httpError(w, http.StatusConflict, "%v", err)
		} else {
			api.log.Warn("alert action", zap.String("fingerprint", fp), zap.Error(err))
			httpError(w, http.StatusServiceUnavailable, "%v", err)
		}
	}
	return false
}

func viewOf(rec *Record) alertView {
	return alertView{
		Fingerprint: rec.Fingerprint, Status: rec.Status, Incident: rec.Incident,
		Labels: rec.Alert.Labels, Annotations: rec.Alert.Annotations,
		StartsAt: rec.Alert.StartsAt, EndsAt: rec.Alert.EndsAt,
		FirstSeen: rec.FirstSeen, UpdatedAt: rec.UpdatedAt, GeneratorURL: rec.Alert.GeneratorURL,
		Receivers: nonNil(rec.Receivers), Timeline: nonNil(rec.Timeline),
		Ack: rec.Ack, Resolution: rec.Resolution, Pages: nonNil(rec.Pages), Veto: rec.Veto,
	}
}

func (api *API) reportAPI(w http.ResponseWriter, r *http.Request, sc scope) {
	fp := r.PathValue("fingerprint")
	if !api.visible(r, w, sc, fp) {
		return
	}
	text, err := api.state.Report(r.Context(), fp)
	if !api.actionError(w, fp, err) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(text))
}

//go:embed link.html
var linkHTML string

var linkTmpl = template.Must(template.New("link").Parse(linkHTML))

// linkView is what the confirmation page shows.
type linkView struct {
	Title, Error, Done string
	Action, Verb       string
	Category, Summary  string
	Account, Unit      string
	Status, FirstSeen  string
	Ack                string
	Missing            string // what the form lacked, shown above it
}

// linkPage shows what the link would do and a button to do it. GET changes
// nothing: chat apps and mail scanners open links on their own.
func (api *API) linkPage(w http.ResponseWriter, r *http.Request) {
	v, _, ok := api.linkClaims(w, r)
	if !ok {
		return
	}
	api.renderLink(w, http.StatusOK, v)
}

func (api *API) linkAction(w http.ResponseWriter, r *http.Request) {
	v, c, ok := api.linkClaims(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxActionBody)
	by := strings.TrimSpace(r.FormValue("by"))
	if by == "" {
		// The timeline and the report upward say who acted: a name is
		// required, as the form says, also of a client that skips it.
		v.Missing = "请填写姓名后再" + v.Verb + "。"
		api.renderLink(w, http.StatusBadRequest, v)
		return
	}
	note := strings.TrimSpace(r.FormValue("note"))
	var err error
	if c.Action == ack.ActionAck {
		_, err = api.state.Acknowledge(r.Context(), c.Fingerprint, c.Incident, by, note)
	} else {
		_, err = api.state.Resolve(r.Context(), c.Fingerprint, c.Incident, by, note)
	}
	switch {
	case err == nil:
		v.Done = "已" + v.Verb + "，谢谢。"
	case errors.Is(err, ErrIncidentOver):
		v.Error = "该告警已再次触发，此链接对应的事件已结束，请使用最新消息中的链接。"
	case strings.Contains(err.Error(), "already resolved") || strings.Contains(err.Error(), "not firing"):
		v.Error = "该告警已处置完毕，无需再" + v.Verb + "。"
	default:
		api.log.Warn("link action", zap.String("fingerprint", c.Fingerprint), zap.Error(err))
		v.Error = "暂时无法处理，请稍后重试。"
		api.renderLink(w, http.StatusServiceUnavailable, v)
		return
	}
	if rec, err := api.state.Record(r.Context(), c.Fingerprint); err == nil {
		v.Status = statusName(rec.Status)
	}
	api.renderLink(w, http.StatusOK, v)
}

func (api *API) linkClaims(w http.ResponseWriter, r *http.Request) (linkView, ack.Claims, bool) {
	v := linkView{Title: "告警处理"}
	if api.signer == nil {
		v.Error = "本系统未启用一键确认链接。"
		api.renderLink(w, http.StatusNotFound, v)
		return v, ack.Claims{}, false
	}
	c, err := api.signer.Verify(r.PathValue("token"), api.clock.Now())
	switch {
	case errors.Is(err, ack.ErrExpired):
		v.Error = "链接已过期，请在值班台或最新消息中处理。"
		api.renderLink(w, http.StatusGone, v)
		return v, c, false
	case err != nil:
		v.Error = "链接无效（签名不符或已被改动）。"
		api.renderLink(w, http.StatusForbidden, v)
		return v, c, false
	}
	v.Action, v.Verb = c.Action, "确认"
	if c.Action == ack.ActionResolve {
		v.Verb = "标记为已处置"
	}
	v.Title = v.Verb + "告警"
	rec, err := api.state.Record(r.Context(), c.Fingerprint)
	if err != nil {
		v.Error = "找不到该告警，可能已过保存期限。"
		api.renderLink(w, http.StatusNotFound, v)
		return v, c, false
	}
	a := rec.Alert
	v.Category = model.CategoryName(a.Name())
	v.Summary = a.Annotations[model.AnnotationSummary]
	v.Account = firstNonEmpty(a.Labels[model.LabelAccountName], a.Labels[model.LabelAccountID])
	v.Unit = api.state.UnitName(a.Labels[model.LabelUnit], a.Annotations[model.AnnotationUnitName])
	v.Status = statusName(rec.Status)
	v.FirstSeen = rec.FirstSeen.In(calendar.Shanghai).Format("2006-01-02 15:04")
	if rec.Ack != nil {
		v.Ack = rec.Ack.By + " 于 " + rec.Ack.At.In(calendar.Shanghai).Format("2006-01-02 15:04") + " 确认"
	}
	if rec.Incident != c.Incident {
		v.Error = "该告警已再次触发，此链接对应的事件已结束，请使用最新消息中的链接。"
		api.renderLink(w, http.StatusConflict, v)
		return v, c, false
	}
	return v, c, true
}

func statusName(s string) string {
	switch s {
	case StatusFiring:
		return "告警中，未确认"
	case StatusAcknowledged:
		return "已确认，处置中"
	case StatusResolved:
		return "已处置"
	}
	return s
}

func (api *API) renderLink(w http.ResponseWriter, code int, v linkView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	if err := linkTmpl.Execute(w, v); err != nil {
		api.log.Warn("render link page", zap.Error(err))
	}
}

// Silences, in Alertmanager's API v2 shapes.

type gettableSilence struct {
	silence.Silence
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func (api *API) gettable(s silence.Silence) gettableSilence {
	g := gettableSilence{Silence: s}
	if g.Matchers == nil {
		g.Matchers = []silence.Matcher{}
	}
	g.Status.State = s.State(api.clock.Now())
	return g
}

func (api *API) postSilence(w http.ResponseWriter, r *http.Request, sc scope) {
	if !sc.admin {
		httpError(w, http.StatusForbidden, "only an admin token manages silences")
		return
	}
	var s silence.Silence
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&s); err != nil {
		bodyError(w, err, maxBody, "a silence as JSON")
		return
	}
	id, err := api.state.Silences().Set(r.Context(), s)
	switch {
	case errors.Is(err, silence.ErrNotFound):
		httpError(w, http.StatusNotFound, "no silence %s", s.ID)
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "silence: %v", err)
		return
	}
	api.log.Info("silence set", zap.String("silence", id), zap.String("by", s.CreatedBy))
	writeJSON(w, http.StatusOK, map[string]string{"silenceID": id})
}

func (api *API) listSilences(w http.ResponseWriter, r *http.Request, sc scope) {
	ms, err := filters(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	all, err := api.state.Silences().List(r.Context())
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read silences: %v", err)
		return
	}
	out := []gettableSilence{}
	for _, s := range all {
		// As Alertmanager: the filter applies to the labels the silence's
		// equality matchers name.
		ls := model.LabelSet{}
		for _, m := range s.Matchers {
			if !m.IsRegex && (m.IsEqual == nil || *m.IsEqual) {
				ls[m.Name] = m.Value
			}
		}
		if ms.Matches(ls) && sc.seesSilence(s) {
			out = append(out, api.gettable(s))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (api *API) getSilence(w http.ResponseWriter, r *http.Request, sc scope) {
	s, err := api.state.Silences().Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, silence.ErrNotFound) || err == nil && !sc.seesSilence(s):
		// Another unit's silence is as absent as one that never was.
		httpError(w, http.StatusNotFound, "no silence %s", r.PathValue("id"))
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, "read silence: %v", err)
	default:
		writeJSON(w, http.StatusOK, api.gettable(s))
	}
}

func (api *API) deleteSilence(w http.ResponseWriter, r *http.Request, sc scope) {
	if !sc.admin {
		httpError(w, http.StatusForbidden, "only an admin token manages silences")
		return
	}
	err := api.state.Silences().Expire(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, silence.ErrNotFound):
		httpError(w, http.StatusNotFound, "no silence %s", r.PathValue("id"))
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, "expire silence: %v", err)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

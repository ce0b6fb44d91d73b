package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
)

// allowBody is the body of POST /api/v1/findings/allow.
type allowBody struct {
	Fingerprint string `json:"fingerprint"`
	Scope       string `json:"scope"`
	Reason      string `json:"reason"`
	By          string `json:"by"`
	Rule        string `json:"rule"`
	Match       string `json:"match"`
}

// scopeNames are the scopes as the timeline of the alert says them.
var scopeNames = map[string]string{
	allow.ScopePost:       "本条内容",
	allow.ScopeAccount:    "本账号",
	allow.ScopeUnit:       "本单位",
	allow.ScopeEverywhere: "所有单位",
}

// scopeLabels are the alert labels that name each scope's target.
var scopeLabels = map[string]string{
	allow.ScopePost:    model.LabelPostID,
	allow.ScopeAccount: model.LabelAccountID,
	allow.ScopeUnit:    model.LabelUnit,
}

// postAllow writes an allow entry for the finding of an alert and resolves
// the alert with the reason in its timeline. A unit's token allows for
// alerts of its units, on a post, an account or a unit (another unit's
// alert answers 404, as an unknown one); only an admin token allows
// everywhere.
func (api *API) postAllow(w http.ResponseWriter, r *http.Request, sc scope) {
	var body allowBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		bodyError(w, err, maxActionBody, `JSON {"fingerprint", "scope", "reason", "by", "rule"?, "match"?}`)
		return
	}
	by, reason := strings.TrimSpace(body.By), strings.TrimSpace(body.Reason)
	switch {
	case body.Fingerprint == "":
		httpError(w, http.StatusBadRequest, "fingerprint: the alert whose finding is not a problem is required")
		return
	case scopeNames[body.Scope] == "":
		httpError(w, http.StatusBadRequest, "scope %q: want one of %s", body.Scope, strings.Join(allow.Scopes, ", "))
		return
	case reason == "":
		httpError(w, http.StatusBadRequest, "reason: say why the finding is not a problem")
		return
	case by == "":
		httpError(w, http.StatusBadRequest, "by: who marks the finding is required")
		return
	case body.Scope == allow.ScopeEverywhere && !sc.admin:
		httpError(w, http.StatusForbidden, "scope everywhere: only an admin token allows a finding for every unit")
		return
	}
	fp := body.Fingerprint
	rec, err := api.state.Record(r.Context(), fp)
	switch {
	case errors.Is(err, ErrNoAlert) || err == nil && !sc.sees(rec.Alert.Labels[model.LabelUnit]):
		// Another unit's alert is as absent as one that never was: a
		// refusal naming its unit would tell that it is there.
		httpError(w, http.StatusNotFound, "no alert %s", fp)
		return
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, "read alert: %v", err)
		return
	}
	labels := rec.Alert.Labels
	unit := labels[model.LabelUnit]
	if labels[model.LabelPostID] == "" {
		httpError(w, http.StatusBadRequest, "alert %s (%s) is not a finding in a post: allow entries are for content findings", fp, rec.Alert.Name())
		return
	}
	e := allow.Entry{
		Scope: body.Scope, Category: rec.Alert.Name(), Rule: strings.TrimSpace(body.Rule), Match: strings.TrimSpace(body.Match),
		Reason: reason, By: by, Fingerprint: fp, Unit: unit, CreatedAt: api.clock.Now(),
	}
	if l := scopeLabels[body.Scope]; l != "" {
		e.Target = labels[l]
		if e.Target == "" {
			httpError(w, http.StatusBadRequest, "scope %s: alert %s has no %s label", body.Scope, fp, l)
			return
		}
	}
	var invalid *allow.InvalidError
	e, err = api.state.Allows().Add(r.Context(), e)
	switch {
	case errors.As(err, &invalid):
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	case errors.Is(err, allow.ErrFull):
		httpError(w, http.StatusConflict, "%v", err)
		return
	case err != nil:
		api.log.Warn("allow entry", zap.String("fingerprint", fp), zap.Error(err))
		httpError(w, http.StatusServiceUnavailable, "store the allow entry: %v", err)
		return
	}
	api.log.Info("allow entry added", zap.String("id", e.ID), zap.String("scope", e.Scope), zap.String("category", e.Category),
		zap.String("fingerprint", fp), zap.String("by", by))
	note := fmt.Sprintf("标记为非问题（适用范围：%s）：%s", scopeNames[e.Scope], reason)
	if _, err := api.state.Resolve(r.Context(), fp, 0, by, note); err != nil && !errors.Is(err, ErrNoAlert) &&
		!strings.Contains(err.Error(), "already resolved") {
		// The entry holds; only the resolution failed, and it can be
		// repeated with /resolve.
		api.log.Warn("resolve allowed alert", zap.String("fingerprint", fp), zap.Error(err))
		httpError(w, http.StatusServiceUnavailable, "allow entry %s is stored, but resolving alert %s failed: %v", e.ID, fp, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"status": "success", "data": e})
}

// listAllow lists the entries of the token's units, oldest first.
func (api *API) listAllow(w http.ResponseWriter, r *http.Request, sc scope) {
	all, err := api.state.Allows().List(r.Context())
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "read allow entries: %v", err)
		return
	}
	out := make([]allow.Entry, 0, len(all))
	for _, e := range all {
		if sc.sees(e.Unit) {
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// deleteAllow removes an entry of the token's units (another unit's answers
// 404, as an unknown one); an entry everywhere only with an admin token.
func (api *API) deleteAllow(w http.ResponseWriter, r *http.Request, sc scope) {
	id := r.PathValue("id")
	es := api.state.Allows()
	e, err := es.Get(r.Context(), id)
	switch {
	case errors.Is(err, allow.ErrNotFound) || err == nil && !sc.sees(e.Unit):
		// Another unit's entry is as absent as one that never was.
		httpError(w, http.StatusNotFound, "no allow entry %s", id)
		return
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, "read allow entry: %v", err)
		return
	case e.Scope == allow.ScopeEverywhere && !sc.admin:
		httpError(w, http.StatusForbidden, "allow entry %s applies everywhere: only an admin token removes it", id)
		return
	}
	if err := es.Remove(r.Context(), id); err != nil && !errors.Is(err, allow.ErrNotFound) {
		httpError(w, http.StatusServiceUnavailable, "remove allow entry: %v", err)
		return
	}
	api.log.Info("allow entry removed", zap.String("id", id), zap.String("scope", e.Scope), zap.String("category", e.Category))
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": e})
}

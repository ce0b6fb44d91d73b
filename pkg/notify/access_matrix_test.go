package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/registry"
)

// The access matrix puts every token against every guarded route of the API
// and an object of each unit around one unit U:
//
//	fj-gov           U's parent
//	├── fz-gov       U
//	│   └── fz-edu   U's child
//	└── xm-gov       U's sibling
//
// A token reads and acts on the objects of its unit and the units below it
// (an admin's on all); only an admin token manages silences and allows a
// finding everywhere; the check token is refused everywhere. Another branch's
// object answers as one that does not exist, so that no answer tells it is
// there.

// matrixUnits own the objects, named by their place around U.
var matrixUnits = []struct{ role, id string }{
	{"own", "fz-gov"}, {"child", "fz-edu"}, {"sibling", "xm-gov"}, {"parent", "fj-gov"},
}

// isMatrixUnit reports whether id is one of matrixUnits.
func isMatrixUnit(id string) bool {
	for _, u := range matrixUnits {
		if u.id == id {
			return true
		}
	}
	return false
}

// matrixDirectory is the unit tree above, each unit with a one-person duty
// team.
func matrixDirectory(t *testing.T) *escalate.Directory {
	t.Helper()
	reg, probs := registry.New([]registry.Unit{
		{ID: "fj-gov", Name: "福建省人民政府办公厅", Head: registry.Contact{Name: "省办主任", Mobile: "13900000001"}},
		{ID: "fz-gov", Name: "福州市人民政府办公厅", Parent: "fj-gov", Head: registry.Contact{Name: "福州市办主任", Mobile: "13900000002"}},
		{ID: "fz-edu", Name: "福州市教育局", Parent: "fz-gov", Head: registry.Contact{Name: "局长", Mobile: "13900000003"}},
		{ID: "xm-gov", Name: "厦门市人民政府办公厅", Parent: "fj-gov", Head: registry.Contact{Name: "厦门市办主任", Mobile: "13900000004"}},
	}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	var teams []roster.TeamConfig
	for i, u := range []string{"fj-gov", "fz-gov", "fz-edu", "xm-gov"} {
		teams = append(teams, roster.TeamConfig{Unit: u, Layers: []roster.LayerConfig{{Name: "值班", Rotation: "daily", Handoff: "08:30", Start: "2026-01-01",
			Members: []roster.PersonConfig{{Name: u + "值班", Mobile: fmt.Sprintf("1380000000%d", i+1)}}}}})
	}
	ro, err := roster.New(&roster.File{Teams: teams}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &escalate.Directory{Registry: reg, Roster: ro}
}

// matrixToken is a token and the units whose objects it may read and act
// on, written out here rather than taken from the code under test.
type matrixToken struct {
	name  string
	token Token
	home  string // a unit it sees (or would, for the check token)
	sees  []string
}

func (tk matrixToken) admin() bool            { return tk.token.Unit == "" && !tk.token.Check }
func (tk matrixToken) check() bool            { return tk.token.Check }
func (tk matrixToken) seesUnit(u string) bool { return slices.Contains(tk.sees, u) }
func (tk matrixToken) secret() string         { return string(tk.token.Secret) }

var matrixTokens = []matrixToken{
	{"the admin token", Token{Secret: []byte("matrix-admin-0123456")}, "fz-gov", []string{"fz-gov", "fz-edu", "xm-gov", "fj-gov"}},
	{"U's token", Token{Unit: "fz-gov", Secret: []byte("matrix-fz-gov-0123456")}, "fz-gov", []string{"fz-gov", "fz-edu"}},
	{"the parent's token", Token{Unit: "fj-gov", Secret: []byte("matrix-fj-gov-0123456")}, "fj-gov", []string{"fz-gov", "fz-edu", "xm-gov", "fj-gov"}},
	{"the child's token", Token{Unit: "fz-edu", Secret: []byte("matrix-fz-edu-0123456")}, "fz-edu", []string{"fz-edu"}},
	{"the sibling's token", Token{Unit: "xm-gov", Secret: []byte("matrix-xm-gov-0123456")}, "xm-gov", []string{"xm-gov"}},
	{"the check token", Token{Check: true, Secret: []byte("matrix-check-0123456")}, "fz-gov", nil},
}

// Ids that name no object, to compare refusals with.
const (
	noAlert   = "0000000000000000"
	noSilence = "00000000-0000-0000-0000-000000000000"
	noAllow   = "000000000000000000000000"
)

// matrix is the API under the matrix and what the cells have made.
type matrix struct {
	t   *testing.T
	ctx context.Context
	f   *escAPI
	// ids are the identifiers of every object of each unit: fingerprints,
	// silence and allow entry ids.
	ids map[string][]string
	// The objects every read is checked against, one of each kind per
	// unit, by their ids.
	fps, silences, allows map[string]string
	seq                   int
	// cells counts the cells run, cross those that read or acted on an
	// object of a unit outside the token's.
	cells, cross int
}

// cell is one token × route × owner of the matrix.
type cell struct {
	m       *matrix
	name    string
	crossed bool
}

func (m *matrix) cell(tk matrixToken, what, owner string) *cell {
	m.cells++
	role := owner
	for _, u := range matrixUnits {
		if u.id == owner {
			role = u.role + " (" + owner + ")"
		}
	}
	return &cell{m: m, name: fmt.Sprintf("%s, %s, object of %s", tk.name, what, role)}
}

// crossf records that the cell read or acted across units.
func (c *cell) crossf(format string, args ...any) {
	if !c.crossed {
		c.crossed = true
		c.m.cross++
	}
	c.m.t.Errorf("%s: CROSS-UNIT: %s", c.name, fmt.Sprintf(format, args...))
}

func (c *cell) errorf(format string, args ...any) {
	c.m.t.Errorf("%s: %s", c.name, fmt.Sprintf(format, args...))
}

// do sends a request with tk and returns the answer.
func (m *matrix) do(tk matrixToken, method, path, body string) (int, string) {
	m.t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	return m.f.do(m.t, method, path, tk.secret(), ctype, body)
}

// leaked returns the identifiers of units' objects that body holds and the
// request (path and body) did not carry itself.
func (m *matrix) leaked(body, request string, units ...string) []string {
	var out []string
	for _, u := range units {
		for _, id := range m.ids[u] {
			if strings.Contains(body, id) && !strings.Contains(request, id) {
				out = append(out, u+":"+id)
			}
		}
	}
	return out
}

// unseen are the matrix's units outside tk's.
func unseen(tk matrixToken) []string {
	var out []string
	for _, u := range matrixUnits {
		if !tk.seesUnit(u.id) {
			out = append(out, u.id)
		}
	}
	return out
}

// fire runs a fresh content alert of unit through the notifier.
func (m *matrix) fire(unit string) *model.Alert {
	m.t.Helper()
	a := m.alert(unit)
	if err := m.f.n.Handle(m.ctx, a); err != nil {
		m.t.Fatal(err)
	}
	return a
}

// alert is a fresh content alert of unit, on a post of its own.
func (m *matrix) alert(unit string) *model.Alert {
	m.seq++
	a := &model.Alert{
		Labels: model.LabelSet{model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelSeverity: "major", model.LabelUnit: unit,
			model.LabelAccountID: unit + "-weibo", model.LabelPlatform: "weibo", model.LabelPostID: fmt.Sprintf("weibo/%s-weibo/%d", unit, m.seq)},
		Annotations: map[string]string{model.AnnotationSummary: "微博发布了手机号码"},
		StartsAt:    escStart,
	}
	m.ids[unit] = append(m.ids[unit], a.Fingerprint())
	return a
}

// silence stores a fresh silence of unit, muting one post's alerts.
func (m *matrix) silence(unit string) string {
	m.t.Helper()
	m.seq++
	id, err := m.f.n.Silences().Set(m.ctx, silence.Silence{
		Matchers: []silence.Matcher{{Name: model.LabelUnit, Value: unit}, {Name: model.LabelPostID, Value: fmt.Sprintf("weibo/%s-weibo/%d", unit, m.seq)}},
		EndsAt:   escStart.Add(2 * time.Hour), CreatedBy: "管理员", Comment: fmt.Sprintf("维护 %d", m.seq),
	})
	if err != nil {
		m.t.Fatal(err)
	}
	m.ids[unit] = append(m.ids[unit], id)
	return id
}

// allowEntry stores a fresh allow entry of unit, on a post of its own.
func (m *matrix) allowEntry(unit string) string {
	m.t.Helper()
	a := m.alert(unit)
	e, err := m.f.n.Allows().Add(m.ctx, allow.Entry{Scope: allow.ScopePost, Target: a.Labels[model.LabelPostID], Category: a.Name(),
		Reason: "公开咨询电话", By: "值班", Fingerprint: a.Fingerprint(), Unit: unit, CreatedAt: escStart})
	if err != nil {
		m.t.Fatal(err)
	}
	m.ids[unit] = append(m.ids[unit], e.ID)
	return e.ID
}

// state is everything the API can change: alert records, silences and
// allow entries, in an order of their own.
func (m *matrix) state() string {
	m.t.Helper()
	recs, err := m.f.n.Alerts(m.ctx, false)
	if err != nil {
		m.t.Fatal(err)
	}
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	sils, err := m.f.n.Silences().List(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	slices.SortFunc(sils, func(a, b silence.Silence) int { return strings.Compare(a.ID, b.ID) })
	allows, err := m.f.n.Allows().List(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	slices.SortFunc(allows, func(a, b allow.Entry) int { return strings.Compare(a.ID, b.ID) })
	b, err := json.Marshal([]any{recs, sils, allows})
	if err != nil {
		m.t.Fatal(err)
	}
	return string(b)
}

// listed is one object a listing answers, by its id and its unit.
type listed struct{ id, unit string }

// listAlertsV1 reads GET /api/v1/alerts.
func listAlertsV1(body string) ([]listed, error) {
	var doc struct {
		Data []struct {
			Fingerprint string         `json:"fingerprint"`
			Labels      model.LabelSet `json:"labels"`
		} `json:"data"`
	}
	err := json.Unmarshal([]byte(body), &doc)
	var out []listed
	for _, a := range doc.Data {
		out = append(out, listed{a.Fingerprint, a.Labels[model.LabelUnit]})
	}
	return out, err
}

// listAlertsV2 reads GET /api/v2/alerts.
func listAlertsV2(body string) ([]listed, error) {
	var doc []gettableAlert
	err := json.Unmarshal([]byte(body), &doc)
	var out []listed
	for _, a := range doc {
		out = append(out, listed{a.Fingerprint, a.Labels[model.LabelUnit]})
	}
	return out, err
}

// listGroups reads GET /api/v2/alerts/groups: its alerts, and each group
// by the unit it is grouped by.
func listGroups(body string) ([]listed, error) {
	var doc []amGroup
	err := json.Unmarshal([]byte(body), &doc)
	var out []listed
	for _, g := range doc {
		out = append(out, listed{"group " + g.Labels[model.LabelUnit], g.Labels[model.LabelUnit]})
		for _, a := range g.Alerts {
			out = append(out, listed{a.Fingerprint, a.Labels[model.LabelUnit]})
		}
	}
	return out, err
}

// listSilences reads GET /api/v2/silences; a silence's unit is the one its
// equality matcher on unit names.
func listSilences(body string) ([]listed, error) {
	var doc []silence.Silence
	err := json.Unmarshal([]byte(body), &doc)
	var out []listed
	for _, s := range doc {
		unit := ""
		for _, m := range s.Matchers {
			if m.Name == model.LabelUnit && !m.IsRegex && (m.IsEqual == nil || *m.IsEqual) {
				unit = m.Value
			}
		}
		out = append(out, listed{s.ID, unit})
	}
	return out, err
}

// listAllows reads GET /api/v1/findings/allow.
func listAllows(body string) ([]listed, error) {
	var doc struct {
		Data []allow.Entry `json:"data"`
	}
	err := json.Unmarshal([]byte(body), &doc)
	var out []listed
	for _, e := range doc.Data {
		out = append(out, listed{e.ID, e.Unit})
	}
	return out, err
}

// list runs the cells of a listing: it holds the objects of every unit tk
// sees, and of no other.
func (m *matrix) list(tk matrixToken, what, path string, read func(string) ([]listed, error), base map[string]string) {
	code, body := m.do(tk, "GET", path, "")
	items, err := read(body)
	if code == http.StatusOK && err != nil {
		m.t.Errorf("%s, %s: unreadable answer %s: %v", tk.name, what, body, err)
	}
	if !tk.check() {
		for _, it := range items {
			if !tk.seesUnit(it.unit) && !isMatrixUnit(it.unit) {
				m.cross++
				m.t.Errorf("%s, %s: CROSS-UNIT: lists %s of unit %q", tk.name, what, it.id, it.unit)
			}
		}
	}
	for _, u := range matrixUnits {
		c := m.cell(tk, what, u.id)
		if tk.check() {
			if code != http.StatusForbidden {
				c.errorf("got %d %s, want 403", code, body)
			}
		} else if code != http.StatusOK {
			c.errorf("got %d %s, want 200", code, body)
		}
		if !tk.seesUnit(u.id) {
			for _, it := range items {
				if it.unit == u.id {
					c.crossf("lists %s", it.id)
				}
			}
			if ids := m.leaked(body, path, u.id); len(ids) > 0 {
				c.crossf("the answer names %v", ids)
			}
		} else if !slices.ContainsFunc(items, func(it listed) bool { return it.id == base[u.id] }) {
			c.errorf("does not list %s, want it listed: %s", base[u.id], body)
		}
	}
}

// get runs the cells of a single object's read: its own unit's and those
// below read it; another branch's answers as an unknown one.
func (m *matrix) get(tk matrixToken, what string, path func(id string) string, base map[string]string, unknown string) {
	for _, u := range matrixUnits {
		c := m.cell(tk, what, u.id)
		id := base[u.id]
		code, body := m.do(tk, "GET", path(id), "")
		switch {
		case tk.check():
			if code != http.StatusForbidden {
				c.errorf("got %d %s, want 403", code, body)
			}
		case tk.seesUnit(u.id):
			if code != http.StatusOK {
				c.errorf("got %d %s, want 200", code, body)
			}
		case code == http.StatusOK:
			c.crossf("reads it: %s", body)
		default:
			ucode, ubody := m.do(tk, "GET", path(unknown), "")
			if code != http.StatusNotFound || code != ucode || strings.ReplaceAll(body, id, unknown) != ubody {
				c.crossf("answers %d %s, an unknown one %d %s: want both 404, alike", code, body, ucode, ubody)
			}
		}
		if ids := m.leaked(body, path(id), unseen(tk)...); len(ids) > 0 {
			c.crossf("the answer names %v", ids)
		}
	}
}

// setup runs the cells of a route that answers the notifier's set-up, no
// unit's objects: every unit's token reads it, and it names no object.
func (m *matrix) setup(tk matrixToken, what, path string) {
	code, body := m.do(tk, "GET", path, "")
	for _, u := range matrixUnits {
		c := m.cell(tk, what, u.id)
		if want := map[bool]int{true: http.StatusForbidden, false: http.StatusOK}[tk.check()]; code != want {
			c.errorf("got %d %s, want %d", code, body, want)
		}
		if !tk.seesUnit(u.id) {
			if ids := m.leaked(body, path, u.id); len(ids) > 0 {
				c.crossf("the answer names %v", ids)
			}
		}
	}
}

// matrixAction is an action of the API on an object of one unit.
type matrixAction struct {
	what string
	// allowed says whether tk may act on owner's objects; refused is the
	// answer when not (the check token gets 403 from the guard).
	allowed func(tk matrixToken, owner string) bool
	refused int
	// on makes the object of owner the action is on and returns the
	// request.
	on func(m *matrix, tk matrixToken, owner string) actionRequest
}

// actionRequest is one action's request. When it names an existing object,
// id is its identifier and unknown one that names nothing, and a refusal
// must read as that of the unknown one. took checks that the action did
// what it says.
type actionRequest struct {
	method, path, body string
	id, unknown        string
	ok                 int
	took               func(m *matrix, answer string) error
}

// inBranch: the owner is the token's unit or below it.
func inBranch(tk matrixToken, owner string) bool { return tk.seesUnit(owner) }

// adminOnly: only an admin token.
func adminOnly(tk matrixToken, _ string) bool { return tk.admin() }

// act runs the cells of an action for each owner: allowed on the units the
// token may act on and taking effect, refused elsewhere having changed
// nothing.
func (m *matrix) act(tk matrixToken, a matrixAction) {
	for _, u := range matrixUnits {
		c := m.cell(tk, a.what, u.id)
		req := a.on(m, tk, u.id)
		before := m.state()
		code, body := m.do(tk, req.method, req.path, req.body)
		after := m.state()
		allowed := !tk.check() && a.allowed(tk, u.id)
		switch {
		case allowed:
			if code != req.ok {
				c.errorf("got %d %s, want %d", code, body, req.ok)
			} else if err := req.took(m, body); err != nil {
				c.errorf("answered %d but %v", code, err)
			}
		default:
			cross := tk.check() || !tk.seesUnit(u.id)
			wrong := c.errorf
			if cross {
				wrong = c.crossf
			}
			want := a.refused
			if tk.check() {
				want = http.StatusForbidden
			}
			if code/100 == 2 {
				wrong("allowed (%d %s), want %d", code, body, want)
			} else if code != want {
				c.errorf("got %d %s, want %d", code, body, want)
			}
			if after != before {
				wrong("refused with %d but the state changed", code)
			}
			if req.id != "" && code/100 != 2 {
				path, reqBody := strings.ReplaceAll(req.path, req.id, req.unknown), strings.ReplaceAll(req.body, req.id, req.unknown)
				ucode, ubody := m.do(tk, req.method, path, reqBody)
				if ucode != code || strings.ReplaceAll(body, req.id, req.unknown) != ubody {
					wrong("answers %d %s, but %d %s for an object that does not exist", code, body, ucode, ubody)
				}
			}
		}
		if ids := m.leaked(body, req.path+" "+req.body, unseen(tk)...); len(ids) > 0 {
			c.crossf("the answer names %v", ids)
		}
	}
}

// status reads fp's record's status.
func (m *matrix) status(fp string) (string, error) {
	rec, err := m.f.n.Record(m.ctx, fp)
	if err != nil {
		return "", err
	}
	return rec.Status, nil
}

// alertAction acknowledges or resolves a fresh alert of the owner.
func alertAction(what, verb, want string) matrixAction {
	return matrixAction{what: what, allowed: inBranch, refused: http.StatusNotFound,
		on: func(m *matrix, tk matrixToken, owner string) actionRequest {
			fp := m.fire(owner).Fingerprint()
			return actionRequest{method: "POST", path: "/api/v1/alerts/" + fp + "/" + verb, body: `{"by": "值班", "note": "矩阵"}`,
				id: fp, unknown: noAlert, ok: http.StatusOK,
				took: func(m *matrix, _ string) error {
					if got, err := m.status(fp); err != nil || got != want {
						return fmt.Errorf("the alert is %s (%v), want %s", got, err, want)
					}
					return nil
				}}
		}}
}

// allowAction marks a fresh alert's finding as not a problem, in scope.
func allowAction(what, scope string, allowed func(matrixToken, string) bool, refused int) matrixAction {
	return matrixAction{what: what, allowed: allowed, refused: refused,
		on: func(m *matrix, tk matrixToken, owner string) actionRequest {
			fp := m.fire(owner).Fingerprint()
			return actionRequest{method: "POST", path: "/api/v1/findings/allow",
				body: `{"fingerprint": "` + fp + `", "scope": "` + scope + `", "rule": "手机号码", "reason": "公开咨询电话", "by": "值班"}`,
				id:   fp, unknown: noAlert, ok: http.StatusCreated,
				took: func(m *matrix, answer string) error {
					var doc struct {
						Data allow.Entry `json:"data"`
					}
					if err := json.Unmarshal([]byte(answer), &doc); err != nil {
						return err
					}
					m.ids[owner] = append(m.ids[owner], doc.Data.ID)
					if e, err := m.f.n.Allows().Get(m.ctx, doc.Data.ID); err != nil || e.Unit != owner || e.Scope != scope {
						return fmt.Errorf("entry %+v (%v), want one of %s in scope %s", e, err, owner, scope)
					}
					if got, err := m.status(fp); err != nil || got != StatusResolved {
						return fmt.Errorf("the alert is %s (%v), want resolved", got, err)
					}
					return nil
				}}
		}}
}

// deleteAllowAction removes a fresh allow entry of the owner.
var deleteAllowAction = matrixAction{what: "DELETE /api/v1/findings/allow/{id}", allowed: inBranch, refused: http.StatusNotFound,
	on: func(m *matrix, tk matrixToken, owner string) actionRequest {
		id := m.allowEntry(owner)
		return actionRequest{method: "DELETE", path: "/api/v1/findings/allow/" + id, id: id, unknown: noAllow, ok: http.StatusOK,
			took: func(m *matrix, _ string) error {
				if _, err := m.f.n.Allows().Get(m.ctx, id); !errors.Is(err, allow.ErrNotFound) {
					return fmt.Errorf("the entry is still there (%v)", err)
				}
				return nil
			}}
	}}

// postAlertsAction posts alerts of the owner, after one of the token's own
// unit when mixed: a request is refused whole.
func postAlertsAction(what string, mixed bool) matrixAction {
	return matrixAction{what: what, allowed: inBranch, refused: http.StatusForbidden,
		on: func(m *matrix, tk matrixToken, owner string) actionRequest {
			var alerts []*model.Alert
			if mixed {
				alerts = append(alerts, m.alert(tk.home))
			}
			alerts = append(alerts, m.alert(owner))
			var in []postableAlert
			for _, a := range alerts {
				in = append(in, postableAlert{Labels: a.Labels, Annotations: a.Annotations})
			}
			b, err := json.Marshal(in)
			if err != nil {
				m.t.Fatal(err)
			}
			return actionRequest{method: "POST", path: "/api/v2/alerts", body: string(b), ok: http.StatusOK,
				took: func(m *matrix, _ string) error {
					for _, a := range alerts {
						if got, err := m.status(a.Fingerprint()); err != nil || got != StatusFiring {
							return fmt.Errorf("alert %s is %q (%v), want firing", a.Fingerprint(), got, err)
						}
					}
					return nil
				}}
		}}
}

// createSilenceAction creates a silence of the owner.
var createSilenceAction = matrixAction{what: "POST /api/v2/silences (create)", allowed: adminOnly, refused: http.StatusForbidden,
	on: func(m *matrix, tk matrixToken, owner string) actionRequest {
		m.seq++
		post := fmt.Sprintf("weibo/%s-weibo/%d", owner, m.seq)
		return actionRequest{method: "POST", path: "/api/v2/silences", ok: http.StatusOK,
			body: `{"matchers": [{"name": "unit", "value": "` + owner + `", "isRegex": false}, {"name": "post_id", "value": "` + post + `", "isRegex": false}],
				"startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "管理员", "comment": "矩阵"}`,
			took: func(m *matrix, answer string) error {
				var doc struct{ SilenceID string }
				if err := json.Unmarshal([]byte(answer), &doc); err != nil {
					return err
				}
				m.ids[owner] = append(m.ids[owner], doc.SilenceID)
				if s, err := m.f.n.Silences().Get(m.ctx, doc.SilenceID); err != nil || len(s.Matchers) != 2 || s.Matchers[0].Value != owner {
					return fmt.Errorf("silence %+v (%v), want one of %s", s, err, owner)
				}
				return nil
			}}
	}}

// updateSilenceAction changes the comment of a fresh silence of the owner.
var updateSilenceAction = matrixAction{what: "POST /api/v2/silences (update)", allowed: adminOnly, refused: http.StatusForbidden,
	on: func(m *matrix, tk matrixToken, owner string) actionRequest {
		id := m.silence(owner)
		s, err := m.f.n.Silences().Get(m.ctx, id)
		if err != nil {
			m.t.Fatal(err)
		}
		s.Comment = "改过"
		b, err := json.Marshal(s)
		if err != nil {
			m.t.Fatal(err)
		}
		return actionRequest{method: "POST", path: "/api/v2/silences", body: string(b), id: id, unknown: noSilence, ok: http.StatusOK,
			took: func(m *matrix, _ string) error {
				if s, err := m.f.n.Silences().Get(m.ctx, id); err != nil || s.Comment != "改过" {
					return fmt.Errorf("silence %+v (%v), want its comment changed", s, err)
				}
				return nil
			}}
	}}

// expireSilenceAction expires a fresh silence of the owner on path.
func expireSilenceAction(pattern string) matrixAction {
	return matrixAction{what: pattern, allowed: adminOnly, refused: http.StatusForbidden,
		on: func(m *matrix, tk matrixToken, owner string) actionRequest {
			id := m.silence(owner)
			return actionRequest{method: "DELETE", path: strings.Replace(strings.TrimPrefix(pattern, "DELETE "), "{id}", id, 1),
				id: id, unknown: noSilence, ok: http.StatusOK,
				took: func(m *matrix, _ string) error {
					if s, err := m.f.n.Silences().Get(m.ctx, id); err != nil || s.State(m.f.clock.Now()) != silence.StateExpired {
						return fmt.Errorf("silence %+v (%v), want it expired", s, err)
					}
					return nil
				}}
		}}
}

// TestAccessMatrix runs every token against every guarded route of the API
// and an object of U, its child, its sibling and its parent, and counts the
// cells that read or acted across units: there must be none. Alert
// records, silences, allow entries and alert groups are the objects; the
// one-click links (/ack/{token}) are not token-scoped but signed for one
// alert's incident, and TestAckLinks covers them.
func TestAccessMatrix(t *testing.T) {
	dir := matrixDirectory(t)
	var tokens []Token
	for _, tk := range matrixTokens {
		tokens = append(tokens, tk.token)
	}
	clock, st := embeddedStores.at(t, escStart)
	esc := newEscNotifier(t, st, clock, newRecorder("robot"), func(o *Options) { o.Directory = dir })
	api, srv := serveAPI(t, esc.n.Notifier, APIOptions{Clock: clock, Log: esc.n.log, Signer: esc.signer, Auth: NewAuth(tokens, dir.Registry),
		Status: &Status{Version: "matrix", Route: &Route{Receiver: "duty", GroupBy: []string{model.LabelUnit}},
			Receivers: []ReceiverInfo{{Name: "duty", Channels: []string{"dingtalk"}}}}})
	m := &matrix{t: t, ctx: testCtx(t), f: &escAPI{escFixture: esc, srv: srv}, ids: map[string][]string{},
		fps: map[string]string{}, silences: map[string]string{}, allows: map[string]string{}}

	// One object of each kind per unit; the silence mutes the unit's alert,
	// so that the alerts' silencedBy is read too.
	for _, u := range matrixUnits {
		a := m.fire(u.id)
		m.fps[u.id] = a.Fingerprint()
		id, err := m.f.n.Silences().Set(m.ctx, silence.Silence{
			Matchers: []silence.Matcher{{Name: model.LabelUnit, Value: u.id}, {Name: model.LabelPostID, Value: a.Labels[model.LabelPostID]}},
			EndsAt:   escStart.Add(2 * time.Hour), CreatedBy: "管理员", Comment: "维护",
		})
		if err != nil {
			t.Fatal(err)
		}
		m.silences[u.id] = id
		m.ids[u.id] = append(m.ids[u.id], id)
		m.allows[u.id] = m.allowEntry(u.id)
	}

	// How each route is exercised, by its pattern in routes().
	listRow := func(path string, read func(string) ([]listed, error), base map[string]string) func(string, matrixToken) {
		return func(what string, tk matrixToken) { m.list(tk, what, path, read, base) }
	}
	actRow := func(as ...matrixAction) func(string, matrixToken) {
		return func(_ string, tk matrixToken) {
			for _, a := range as {
				m.act(tk, a)
			}
		}
	}
	rows := map[string]func(what string, tk matrixToken){
		"GET /api/v1/alerts":                        listRow("/api/v1/alerts?all=1", listAlertsV1, m.fps),
		"POST /api/v1/alerts/{fingerprint}/ack":     actRow(alertAction("POST /api/v1/alerts/{fingerprint}/ack", "ack", StatusAcknowledged)),
		"POST /api/v1/alerts/{fingerprint}/resolve": actRow(alertAction("POST /api/v1/alerts/{fingerprint}/resolve", "resolve", StatusResolved)),
		"GET /api/v1/alerts/{fingerprint}/report": func(what string, tk matrixToken) {
			m.get(tk, what, func(fp string) string { return "/api/v1/alerts/" + fp + "/report" }, m.fps, noAlert)
		},
		"POST /api/v1/findings/allow": actRow(
			allowAction("POST /api/v1/findings/allow (scope post)", allow.ScopePost, inBranch, http.StatusNotFound),
			allowAction("POST /api/v1/findings/allow (scope everywhere)", allow.ScopeEverywhere, adminOnly, http.StatusForbidden)),
		"GET /api/v1/findings/allow":         listRow("/api/v1/findings/allow", listAllows, m.allows),
		"DELETE /api/v1/findings/allow/{id}": actRow(deleteAllowAction),
		"POST /api/v2/alerts": actRow(
			postAlertsAction("POST /api/v2/alerts", false),
			postAlertsAction("POST /api/v2/alerts (with one of the token's unit first)", true)),
		"GET /api/v2/alerts":    listRow("/api/v2/alerts", listAlertsV2, m.fps),
		"POST /api/v2/silences": actRow(createSilenceAction, updateSilenceAction),
		"GET /api/v2/silences":  listRow("/api/v2/silences", listSilences, m.silences),
		"GET /api/v2/silence/{id}": func(what string, tk matrixToken) {
			m.get(tk, what, func(id string) string { return "/api/v2/silence/" + id }, m.silences, noSilence)
		},
		"DELETE /api/v2/silence/{id}":  actRow(expireSilenceAction("DELETE /api/v2/silence/{id}")),
		"DELETE /api/v2/silences/{id}": actRow(expireSilenceAction("DELETE /api/v2/silences/{id}")),
		"GET /api/v2/alerts/groups":    listRow("/api/v2/alerts/groups", listGroups, m.fps),
		"GET /api/v2/status":           func(what string, tk matrixToken) { m.setup(tk, what, "/api/v2/status") },
		"GET /api/v2/receivers":        func(what string, tk matrixToken) { m.setup(tk, what, "/api/v2/receivers") },
	}
	// Routes without a bearer token, and why they have no row.
	unguarded := map[string]string{
		"GET /ack/{token}":  "a one-click link: its signature names one alert's incident",
		"POST /ack/{token}": "a one-click link: its signature names one alert's incident",
	}

	walked := map[string]bool{}
	for _, rt := range api.routes() {
		walked[rt.pattern] = true
		if !rt.guarded {
			if unguarded[rt.pattern] == "" {
				t.Errorf("route %s takes no bearer token and is not in the matrix: add a row, or say why it needs none", rt.pattern)
			}
			continue
		}
		row := rows[rt.pattern]
		if row == nil {
			t.Errorf("route %s has no row in the access matrix: say how to exercise it", rt.pattern)
			continue
		}
		for _, tk := range matrixTokens {
			row(rt.pattern, tk)
		}
	}
	for pattern := range rows {
		if !walked[pattern] {
			t.Errorf("the matrix has a row for %s, which routes() does not serve", pattern)
		}
	}
	t.Logf("%d cells, %d cross-unit reads or actions", m.cells, m.cross)
	if m.cross > 0 {
		t.Errorf("%d cross-unit reads or actions, want 0", m.cross)
	}
}

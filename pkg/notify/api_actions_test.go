package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

type escAPI struct {
	*escFixture
	srv *httptest.Server
}

func newEscAPI(t *testing.T, auth []Token) *escAPI {
	t.Helper()
	return newEscAPIOn(t, embeddedStores, auth)
}

// newEscAPIOn is newEscAPI over a store of backend b.
func newEscAPIOn(t *testing.T, b backend, auth []Token) *escAPI {
	t.Helper()
	clock, st := b.at(t, escStart)
	f := newEscNotifier(t, st, clock, newRecorder("robot"))
	mux := http.NewServeMux()
	newTestAPI(t, f.n.Notifier, f.signer, NewAuth(auth, testDirectory(t).Registry)).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &escAPI{escFixture: f, srv: srv}
}

func (f *escAPI) do(t *testing.T, method, path, token, ctype, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// links returns the ack and resolve paths of the last notification.
func (f *escAPI) links(t *testing.T) (ackPath, resolvePath string) {
	t.Helper()
	f.ch.mu.Lock()
	defer f.ch.mu.Unlock()
	ann := f.ch.got[len(f.ch.got)-1].Alerts[0].Annotations
	path := func(u string) string {
		p, err := url.Parse(u)
		if err != nil || !strings.HasPrefix(u, "https://govwatch.example/ack/") {
			t.Fatalf("link %q: want https://govwatch.example/ack/…", u)
		}
		return p.Path
	}
	return path(ann[model.AnnotationAckURL]), path(ann[channel.AnnotationResolveURL])
}

func TestAckLinks(t *testing.T) {
	f := newEscAPI(t, nil)
	ctx := testCtx(t)
	a := eduAlert(model.CategoryPrivacyIDNumber, "major")
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	ackPath, resolvePath := f.links(t)
	status := func() string {
		rec, err := f.n.Record(ctx, a.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		return rec.Status
	}

	// GET shows a confirmation page and changes nothing.
	code, body := f.do(t, "GET", ackPath, "", "", "")
	if code != 200 || !strings.Contains(body, "确认告警") || !strings.Contains(body, "福州市教育局") || !strings.Contains(body, `method="post"`) {
		t.Fatalf("GET ack link: %d %s", code, body)
	}
	if got := status(); got != StatusFiring {
		t.Fatalf("status after GET: got %s, want firing", got)
	}

	tampered := ackPath[:len(ackPath)-2] + "xx"
	tests := []struct {
		name, path string
		advance    time.Duration
		wantCode   int
		wantText   string
	}{
		{"tampered", tampered, 0, http.StatusForbidden, "链接无效"},
		{"payload altered", "/ack/" + strings.Replace(strings.TrimPrefix(ackPath, "/ack/"), "Y", "Z", 1), 0, http.StatusForbidden, "链接无效"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, "POST", tc.path, "", "application/x-www-form-urlencoded", "by=x")
			if code != tc.wantCode || !strings.Contains(body, tc.wantText) {
				t.Fatalf("POST %s: got %d %q, want %d with %q", tc.path, code, body, tc.wantCode, tc.wantText)
			}
		})
	}
	if got := status(); got != StatusFiring {
		t.Fatalf("status after bad links: got %s, want firing", got)
	}

	// Without a name nothing happens: the form comes back asking for one.
	for _, form := range []string{"note=x", "by=%20%20&note=x"} {
		code, body = f.do(t, "POST", ackPath, "", "application/x-www-form-urlencoded", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "请填写姓名") || !strings.Contains(body, `method="post"`) {
			t.Fatalf("POST ack link with %q: %d %s", form, code, body)
		}
	}
	if got := status(); got != StatusFiring {
		t.Fatalf("status after a nameless ack: got %s, want firing", got)
	}

	code, body = f.do(t, "POST", ackPath, "", "application/x-www-form-urlencoded", url.Values{"by": {"教育值班"}, "note": {"正在处理"}}.Encode())
	if code != 200 || !strings.Contains(body, "已确认") {
		t.Fatalf("POST ack link: %d %s", code, body)
	}
	rec, _ := f.n.Record(ctx, a.Fingerprint())
	if rec.Status != StatusAcknowledged || rec.Ack.By != "教育值班" || rec.Ack.Note != "正在处理" {
		t.Fatalf("after the ack link: %s %+v", rec.Status, rec.Ack)
	}
	// The next person to open the link sees who acknowledged, and when.
	if code, body := f.do(t, "GET", ackPath, "", "", ""); code != 200 || !strings.Contains(body, "教育值班 于 ") || !strings.Contains(body, " 确认") {
		t.Fatalf("GET ack link after the ack: %d %s", code, body)
	}

	// Links expire (72h by default).
	f.clock.Advance(72 * time.Hour)
	code, body = f.do(t, "POST", resolvePath, "", "application/x-www-form-urlencoded", "by=x")
	if code != http.StatusGone || !strings.Contains(body, "链接已过期") {
		t.Fatalf("expired resolve link: %d %s", code, body)
	}
}

func TestAckResolveAPI(t *testing.T) {
	f := newEscAPI(t, nil)
	ctx := testCtx(t)
	a := eduAlert(model.CategoryPrivacyIDNumber, "major")
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	fp := a.Fingerprint()
	tests := []struct {
		name, path, body string
		wantCode         int
		wantStatus       string
	}{
		{"no by", "/api/v1/alerts/" + fp + "/ack", `{"note": "x"}`, 400, StatusFiring},
		{"not JSON", "/api/v1/alerts/" + fp + "/ack", `by=x`, 400, StatusFiring},
		{"unknown alert", "/api/v1/alerts/0000000000000000/ack", `{"by": "x"}`, 404, StatusFiring},
		{"ack", "/api/v1/alerts/" + fp + "/ack", `{"by": "教育值班", "note": "收到"}`, 200, StatusAcknowledged},
		{"resolve", "/api/v1/alerts/" + fp + "/resolve", `{"by": "教育值班", "note": "已删除原文"}`, 200, StatusResolved},
		{"ack after resolve", "/api/v1/alerts/" + fp + "/ack", `{"by": "x"}`, 409, StatusResolved},
	}
	for _, tc := range tests {
		code, body := f.do(t, "POST", tc.path, "", "application/json", tc.body)
		if code != tc.wantCode {
			t.Fatalf("%s: got %d %s, want %d", tc.name, code, body, tc.wantCode)
		}
		rec, _ := f.n.Record(ctx, fp)
		if rec.Status != tc.wantStatus {
			t.Fatalf("%s: status %s, want %s", tc.name, rec.Status, tc.wantStatus)
		}
	}
	code, body := f.do(t, "GET", "/api/v1/alerts/"+fp+"/report", "", "", "")
	if code != 200 || !strings.Contains(body, "由 教育值班 确认，备注：收到") || !strings.Contains(body, "已处置（教育值班）：已删除原文") {
		t.Fatalf("report: %d %s", code, body)
	}
}

func TestAPIAuthPerUnit(t *testing.T) {
	f := newEscAPI(t, []Token{{Unit: "", Secret: []byte("admin-token")}, {Unit: "fz-gov", Secret: []byte("fz-token")}, {Unit: "fz-edu", Secret: []byte("edu-token")}})
	ctx := testCtx(t)
	edu := eduAlert(model.CategoryPrivacyIDNumber, "major")
	city := eduAlert(model.CategoryPrivacyPhone, "major")
	city.Labels["unit"] = "fz-gov"
	prov := eduAlert(model.CategoryWordingTypo, "minor")
	prov.Labels["unit"] = "fj-gov"
	for _, a := range []*model.Alert{edu, city, prov} {
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	list := func(token string) (int, []string) {
		code, body := f.do(t, "GET", "/api/v2/alerts", token, "", "")
		if code != 200 {
			return code, nil
		}
		var got []gettableAlert
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		var units []string
		for _, a := range got {
			units = append(units, a.Labels["unit"])
		}
		return code, units
	}
	tests := []struct {
		name, token string
		wantCode    int
		wantUnits   string
	}{
		{"no token", "", 401, ""},
		{"unknown token", "guess", 401, ""},
		{"admin sees all", "admin-token", 200, "fj-gov,fz-edu,fz-gov"},
		{"city sees itself and below", "fz-token", 200, "fz-edu,fz-gov"},
		{"bureau sees itself only", "edu-token", 200, "fz-edu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, units := list(tc.token)
			sortStrings(units)
			if code != tc.wantCode || strings.Join(units, ",") != tc.wantUnits {
				t.Fatalf("got %d %v, want %d %s", code, units, tc.wantCode, tc.wantUnits)
			}
		})
	}
	if code, _ := f.do(t, "POST", "/api/v1/alerts/"+city.Fingerprint()+"/ack", "edu-token", "application/json", `{"by": "x"}`); code != 404 {
		t.Errorf("bureau acking the city's alert: got %d, want 404", code)
	}
	if code, _ := f.do(t, "POST", "/api/v1/alerts/"+edu.Fingerprint()+"/ack", "fz-token", "application/json", `{"by": "市值班"}`); code != 200 {
		t.Errorf("city acking the bureau's alert: got %d, want 200", code)
	}
	if code, _ := f.do(t, "POST", "/api/v2/alerts", "edu-token", "application/json", `[{"labels": {"alertname": "x", "unit": "fz-gov"}}]`); code != 403 {
		t.Errorf("bureau posting a city alert: got %d, want 403", code)
	}
	if code, _ := f.do(t, "POST", "/api/v2/silences", "fz-token", "application/json", `{}`); code != 403 {
		t.Errorf("unit token creating a silence: got %d, want 403", code)
	}
	// The links need no token.
	ackPath, _ := f.links(t)
	if code, _ := f.do(t, "GET", ackPath, "", "", ""); code != 200 {
		t.Errorf("link without a token: got %d, want 200", code)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestSilencesAPIAndMuting(t *testing.T) {
	f := newEscAPI(t, nil)
	ctx := testCtx(t)
	// As amtool silence add sends it.
	body := `{"matchers": [{"name": "account_id", "value": "fz-edu-weibo", "isRegex": false, "isEqual": true}],
	  "startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "管理员", "comment": "账号迁移维护"}`
	code, resp := f.do(t, "POST", "/api/v2/silences", "", "application/json", body)
	if code != 200 {
		t.Fatalf("POST silence: %d %s", code, resp)
	}
	var created struct{ SilenceID string }
	if err := json.Unmarshal([]byte(resp), &created); err != nil || created.SilenceID == "" {
		t.Fatalf("POST silence answer %s: want silenceID", resp)
	}
	bad := []struct{ name, body, want string }{
		{"no matchers", `{"matchers": [], "startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "a", "comment": "b"}`, "at least one matcher"},
		{"ends before start", `{"matchers": [{"name": "a", "value": "b"}], "startsAt": "2026-11-26T04:00:00Z", "endsAt": "2026-11-26T02:00:00Z", "createdBy": "a", "comment": "b"}`, "not after startsAt"},
		{"no comment", `{"matchers": [{"name": "a", "value": "b"}], "startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "a"}`, "comment is required"},
		{"matches everything", `{"matchers": [{"name": "a", "value": ".*", "isRegex": true}], "startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "a", "comment": "b"}`, "match every alert"},
	}
	for _, tc := range bad {
		if code, resp := f.do(t, "POST", "/api/v2/silences", "", "application/json", tc.body); code != 400 || !strings.Contains(resp, tc.want) {
			t.Errorf("%s: got %d %s, want 400 with %q", tc.name, code, resp, tc.want)
		}
	}

	a := eduAlert(model.CategoryPrivacyIDNumber, "major")
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Minute)
	if err := f.n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.ch.pages(); len(got) != 0 {
		t.Fatalf("pages while silenced: %q, want none", got)
	}
	if got := metricValue(t, f.n.reg, "govwatch_notifier_silenced_total", map[string]string{"category": model.CategoryPrivacyIDNumber}); got != 1 {
		t.Errorf("silenced metric: got %v, want 1", got)
	}
	code, resp = f.do(t, "GET", "/api/v2/alerts?silenced=false", "", "", "")
	if code != 200 || strings.TrimSpace(resp) != "[]" {
		t.Errorf("alerts?silenced=false: %d %s, want []", code, resp)
	}
	code, resp = f.do(t, "GET", "/api/v2/alerts", "", "", "")
	if !strings.Contains(resp, `"state": "suppressed"`) || !strings.Contains(resp, created.SilenceID) {
		t.Errorf("alerts: %s, want suppressed by %s", resp, created.SilenceID)
	}
	code, resp = f.do(t, "GET", "/api/v2/silences?filter=account_id%3D%22fz-edu-weibo%22", "", "", "")
	if code != 200 || !strings.Contains(resp, `"state": "active"`) || !strings.Contains(resp, "账号迁移维护") {
		t.Fatalf("GET silences: %d %s", code, resp)
	}
	// Expiring the silence lets the held-back notification and the overdue
	// escalation go out on the next tick.
	if code, resp := f.do(t, "DELETE", "/api/v2/silence/"+created.SilenceID, "", "", ""); code != 200 {
		t.Fatalf("DELETE silence: %d %s", code, resp)
	}
	if err := f.n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.ch.pages(); len(got) < 2 || got[0] != "firing: 教育值班" || got[1] != "firing: 局长" {
		t.Fatalf("pages after the silence ended: %q", got)
	}
	_, resp = f.do(t, "GET", "/api/v2/silence/"+created.SilenceID, "", "", "")
	if !strings.Contains(resp, `"state": "expired"`) {
		t.Errorf("expired silence: %s", resp)
	}
}

func TestInhibition(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	src, _ := match.ParseAll([]string{`alertname="system.source_down"`})
	tgt, _ := match.ParseAll([]string{`alertname="account.stale"`})
	f := newEscNotifier(t, st, clock, newRecorder("robot"), func(o *Options) {
		o.Inhibit = []inhibit.Rule{{Source: src, Target: tgt, Equal: []string{"account_id"}}}
	})
	ctx := testCtx(t)
	down := eduAlert(model.CategorySystemSourceDown, "minor")
	down.EndsAt = escStart.Add(5 * time.Minute) // as posted on the API, ends unless repeated
	stale := eduAlert(model.CategoryAccountStale, "critical")
	other := eduAlert(model.CategoryAccountStale, "critical")
	other.Labels["account_id"] = "fz-edu-wechat"
	for _, a := range []*model.Alert{down, stale, other} {
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	notified := func() []string {
		f.ch.mu.Lock()
		defer f.ch.mu.Unlock()
		var got []string
		for _, n := range f.ch.got {
			got = append(got, n.Status+" "+n.Alerts[0].Labels["alertname"]+"/"+n.Alerts[0].Labels["account_id"])
		}
		return got
	}
	want := []string{"firing system.source_down/fz-edu-weibo", "firing account.stale/fz-edu-wechat"}
	if got := notified(); !equalStrings(got, want) {
		t.Fatalf("notified %q, want %q (stale of the broken source inhibited)", got, want)
	}
	if got := metricValue(t, f.n.reg, "govwatch_notifier_inhibited_total", map[string]string{"category": model.CategoryAccountStale}); got != 1 {
		t.Errorf("inhibited metric: got %v, want 1", got)
	}
	// Once the source's endsAt passes, one tick resolves it and, no longer
	// inhibited, the stale alert goes out.
	f.clock.Advance(6 * time.Minute)
	if err := f.n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	want = append(want, "resolved system.source_down/fz-edu-weibo", "firing account.stale/fz-edu-weibo")
	if got := notified(); !equalStrings(got, want) {
		t.Fatalf("notified after the source ended %q, want %q", got, want)
	}
}

// TestMutingReadsOnlyWhatItNeeds pins that handling an alert no inhibition
// rule targets does not read every active alert.
func TestMutingReadsOnlyWhatItNeeds(t *testing.T) {
	clock, st0 := embeddedStores.at(t, escStart)
	st := &countingStore{Store: st0}
	src, _ := match.ParseAll([]string{`alertname="system.source_down"`})
	tgt, _ := match.ParseAll([]string{`alertname="account.stale"`})
	f := newEscNotifier(t, st, clock, newRecorder("robot"), func(o *Options) {
		o.Inhibit = []inhibit.Rule{{Source: src, Target: tgt, Equal: []string{"account_id"}}}
	})
	ctx := testCtx(t)
	tests := []struct {
		category    string
		wantScanned bool
	}{
		{model.CategorySystemSourceDown, false},
		{model.CategoryPrivacyIDNumber, false},
		{model.CategoryAccountStale, true},
	}
	for _, tc := range tests {
		st.scanned.Store(0)
		if err := f.n.Handle(ctx, eduAlert(tc.category, "major")); err != nil {
			t.Fatal(err)
		}
		if got := st.scanned.Load() > 0; got != tc.wantScanned {
			t.Errorf("%s: read the active alerts %v, want %v", tc.category, got, tc.wantScanned)
		}
	}
}

// TestSilencesStayWithinUnits: a unit's token reads the silences that name
// a unit it sees, and no other; one spanning units is the admin's alone.
func TestSilencesStayWithinUnits(t *testing.T) {
	f := newEscAPI(t, []Token{{Unit: "", Secret: []byte("admin-token")}, {Unit: "fz-gov", Secret: []byte("fz-token")}, {Unit: "fz-edu", Secret: []byte("edu-token")}})
	add := func(matchers string) string {
		t.Helper()
		body := `{"matchers": [` + matchers + `], "startsAt": "2026-11-26T02:00:00Z", "endsAt": "2026-11-26T04:00:00Z", "createdBy": "管理员", "comment": "维护"}`
		code, resp := f.do(t, "POST", "/api/v2/silences", "admin-token", "application/json", body)
		var created struct{ SilenceID string }
		if code != 200 || json.Unmarshal([]byte(resp), &created) != nil {
			t.Fatalf("POST silence: %d %s", code, resp)
		}
		return created.SilenceID
	}
	city := add(`{"name": "unit", "value": "fz-gov", "isRegex": false}`)
	bureau := add(`{"name": "unit", "value": "fz-edu", "isRegex": false}`)
	everyone := add(`{"name": "alertname", "value": "account.stale", "isRegex": false}`)
	for _, tc := range []struct {
		token string
		sees  []string
	}{
		{"admin-token", []string{city, bureau, everyone}},
		{"fz-token", []string{city, bureau}},
		{"edu-token", []string{bureau}},
	} {
		code, resp := f.do(t, "GET", "/api/v2/silences", tc.token, "", "")
		var list []struct{ ID string }
		if code != 200 || json.Unmarshal([]byte(resp), &list) != nil {
			t.Fatalf("%s: GET silences %d %s", tc.token, code, resp)
		}
		var got []string
		for _, s := range list {
			got = append(got, s.ID)
		}
		slices.Sort(got)
		want := slices.Clone(tc.sees)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", tc.token, got, want)
		}
		for _, id := range []string{city, bureau, everyone} {
			code, _ := f.do(t, "GET", "/api/v2/silence/"+id, tc.token, "", "")
			if want := map[bool]int{true: 200, false: 404}[slices.Contains(tc.sees, id)]; code != want {
				t.Errorf("%s reading silence %s: %d, want %d", tc.token, id, code, want)
			}
		}
	}
}

// TestAPITakesOnlyJSONBodies: the bodies another site's page can send
// without asking (text/plain, forms) are refused before anything is done.
func TestAPITakesOnlyJSONBodies(t *testing.T) {
	f := newEscAPI(t, nil)
	body := `[{"labels": {"alertname": "x", "unit": "fz-gov"}}]`
	for ctype, want := range map[string]int{
		"text/plain":                        415,
		"application/x-www-form-urlencoded": 415,
		"multipart/form-data; boundary=x":   415,
		"":                                  415,
		"application/json; charset=utf-8":   200,
	} {
		if code, resp := f.do(t, "POST", "/api/v2/alerts", "", ctype, body); code != want {
			t.Errorf("POST /api/v2/alerts as %q: %d %s, want %d", ctype, code, resp, want)
		}
	}
}

// TestCheckTakesOnlyJSONBodies: the draft check refuses the bodies another
// site's page can send without asking, with a token and without one.
func TestCheckTakesOnlyJSONBodies(t *testing.T) {
	for _, auth := range []*Auth{nil, NewAuth([]Token{{Secret: []byte("admin-token-0123456")}}, nil)} {
		checked := 0
		check := auth.Checker(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { checked++ }))
		for ctype, want := range map[string]int{
			"text/plain":                        415,
			"application/x-www-form-urlencoded": 415,
			"multipart/form-data; boundary=x":   415,
			"":                                  415,
			"application/json; charset=utf-8":   200,
		} {
			req := httptest.NewRequest("POST", "/api/v1/check", strings.NewReader(`{"text": "澳门新葡京"}`))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			req.Header.Set("Authorization", "Bearer admin-token-0123456")
			rec := httptest.NewRecorder()
			check.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("auth %v: POST /api/v1/check as %q: %d %s, want %d", auth != nil, ctype, rec.Code, rec.Body, want)
			}
		}
		if checked != 1 {
			t.Errorf("auth %v: the check ran %d times, want once (for the JSON body)", auth != nil, checked)
		}
	}
}

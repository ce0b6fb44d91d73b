package notify

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// allowTokens: an admin, the city office above the bureau, the bureau
// itself and a unit elsewhere.
var allowTokens = []Token{
	{Unit: "", Secret: []byte("admin-token")},
	{Unit: "fz-gov", Secret: []byte("fz-token")},
	{Unit: "fz-edu", Secret: []byte("edu-token")},
	{Unit: "xm-edu", Secret: []byte("xm-token")},
}

// postAlert is a content alert of fz-edu on one post.
func postAlert(category, post string) *model.Alert {
	a := eduAlert(category, "major")
	a.Labels[model.LabelPostID] = post
	return a
}

func (f *escAPI) entries(t *testing.T, token string) []allow.Entry {
	t.Helper()
	code, body := f.do(t, "GET", "/api/v1/findings/allow", token, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/findings/allow: %d %s", code, body)
	}
	var doc struct {
		Data []allow.Entry `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Data
}

func TestAllowFindingAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		f := newEscAPIOn(t, b, allowTokens)
		ctx := testCtx(t)
		phone := postAlert(model.CategoryPrivacyPhone, "weibo/fz-edu-weibo/1")
		typo := postAlert(model.CategoryWordingTypo, "weibo/fz-edu-weibo/2")
		stale := eduAlert(model.CategoryAccountStale, "critical")
		for _, a := range []*model.Alert{phone, typo, stale} {
			if err := f.n.Handle(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		status := func(a *model.Alert) *Record {
			t.Helper()
			rec, err := f.n.Record(ctx, a.Fingerprint())
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}

		code, body := f.do(t, "POST", "/api/v1/findings/allow", "edu-token", "application/json",
			`{"fingerprint": "`+phone.Fingerprint()+`", "scope": "account", "match": "１３９１２３４５６７８", "reason": "教育局公开咨询电话", "by": "教育值班"}`)
		if code != http.StatusCreated {
			t.Fatalf("allow: %d %s", code, body)
		}
		var created struct {
			Data allow.Entry `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		e := created.Data
		if e.ID == "" || !e.CreatedAt.Equal(escStart) || e.Scope != "account" || e.Target != "fz-edu-weibo" ||
			e.Category != model.CategoryPrivacyPhone || e.Unit != "fz-edu" || e.Match != textscan.Normalize("13912345678") {
			t.Errorf("allow answered %+v", e)
		}
		rec := status(phone)
		var last Event
		for _, ev := range rec.Timeline {
			if ev.What == StatusResolved {
				last = ev
			}
		}
		if rec.Status != StatusResolved || last.What != StatusResolved || !strings.Contains(last.Detail, "教育值班") ||
			!strings.Contains(last.Detail, "本账号") || !strings.Contains(last.Detail, "教育局公开咨询电话") {
			t.Errorf("allowed alert: status %s, resolution %+v; want resolved with who, scope and reason", rec.Status, last)
		}
		// What the content detector reads for the account's next post.
		cover, err := f.n.Allows().For(ctx, "weibo/fz-edu-weibo/9", "fz-edu-weibo", "fz-edu")
		if err != nil || len(cover) != 1 || cover[0].ID != e.ID {
			t.Errorf("entries covering the account's next post: %+v, %v", cover, err)
		}

		fp := typo.Fingerprint()
		bad := []struct {
			name, token, body string
			code              int
			want              string
		}{
			{"unknown fingerprint", "edu-token", `{"fingerprint": "0000000000000000", "scope": "post", "reason": "r", "by": "b"}`, 404, "no alert 0000000000000000"},
			{"bad scope", "edu-token", `{"fingerprint": "` + fp + `", "scope": "region", "reason": "r", "by": "b"}`, 400, `region\": want one of post, account, unit, everywhere`},
			{"no reason", "edu-token", `{"fingerprint": "` + fp + `", "scope": "post", "reason": " ", "by": "b"}`, 400, "reason"},
			{"no by", "edu-token", `{"fingerprint": "` + fp + `", "scope": "post", "reason": "r"}`, 400, "by:"},
			{"whole category for a unit", "edu-token", `{"fingerprint": "` + fp + `", "scope": "unit", "reason": "r", "by": "b"}`, 400, "too broad"},
			{"unknown field", "edu-token", `{"fingerprint": "` + fp + `", "scope": "post", "reason": "r", "by": "b", "unit": "fz-edu"}`, 400, "unknown field"},
			{"not a post finding", "edu-token", `{"fingerprint": "` + stale.Fingerprint() + `", "scope": "post", "reason": "r", "by": "b"}`, 400, "not a finding in a post"},
			{"another unit's token", "xm-token", `{"fingerprint": "` + fp + `", "scope": "post", "reason": "r", "by": "b"}`, 404, "no alert " + fp},
			{"everywhere with the unit's token", "edu-token", `{"fingerprint": "` + fp + `", "scope": "everywhere", "rule": "再接再励", "reason": "r", "by": "b"}`, 403, "only an admin token"},
			{"everywhere with a parent unit's token", "fz-token", `{"fingerprint": "` + fp + `", "scope": "everywhere", "rule": "再接再励", "reason": "r", "by": "b"}`, 403, "only an admin token"},
			{"no token", "", `{"fingerprint": "` + fp + `", "scope": "post", "reason": "r", "by": "b"}`, 401, "bearer token"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				code, body := f.do(t, "POST", "/api/v1/findings/allow", tc.token, "application/json", tc.body)
				if code != tc.code || !strings.Contains(body, tc.want) {
					t.Errorf("got %d %s, want %d with %q", code, body, tc.code, tc.want)
				}
			})
		}
		if got := status(typo).Status; got != StatusFiring {
			t.Errorf("after refused allows the typo alert is %s, want firing", got)
		}
		// Another unit's alert answers as one that does not exist, so that
		// the refusal tells nothing of it.
		_, other := f.do(t, "POST", "/api/v1/findings/allow", "xm-token", "application/json", `{"fingerprint": "`+fp+`", "scope": "post", "reason": "r", "by": "b"}`)
		_, unknown := f.do(t, "POST", "/api/v1/findings/allow", "xm-token", "application/json", `{"fingerprint": "0000000000000000", "scope": "post", "reason": "r", "by": "b"}`)
		if strings.ReplaceAll(other, fp, "0000000000000000") != unknown {
			t.Errorf("another unit's alert answers %s, an unknown one %s: want them alike", other, unknown)
		}
		if got := f.entries(t, "admin-token"); len(got) != 1 {
			t.Errorf("after refused allows %d entries are stored, want 1", len(got))
		}

		// The parent unit's token allows below it; an admin allows everywhere.
		code, body = f.do(t, "POST", "/api/v1/findings/allow", "fz-token", "application/json",
			`{"fingerprint": "`+fp+`", "scope": "unit", "rule": "再接再励", "reason": "引用原文", "by": "市值班"}`)
		if code != http.StatusCreated {
			t.Fatalf("allow with the parent unit's token: %d %s", code, body)
		}
		code, body = f.do(t, "POST", "/api/v1/findings/allow", "admin-token", "application/json",
			`{"fingerprint": "`+fp+`", "scope": "everywhere", "rule": "再接再励", "reason": "引用原文", "by": "管理员"}`)
		if code != http.StatusCreated {
			t.Fatalf("allow everywhere with the admin token (alert already resolved): %d %s", code, body)
		}
		for token, want := range map[string]int{"admin-token": 3, "fz-token": 3, "edu-token": 3, "xm-token": 0} {
			if got := f.entries(t, token); len(got) != want {
				t.Errorf("%s lists %d entries, want %d: %+v", token, len(got), want, got)
			}
		}
		list := f.entries(t, "admin-token")
		everywhere := list[2]
		if everywhere.Scope != allow.ScopeEverywhere || list[0].ID != e.ID {
			t.Fatalf("entries not oldest first: %+v", list)
		}

		del := []struct {
			name, token, id string
			code            int
			want            string
		}{
			{"unknown id", "admin-token", "nope", 404, "no allow entry nope"},
			{"everywhere with the unit's token", "edu-token", everywhere.ID, 403, "only an admin token"},
			{"another unit's token", "xm-token", e.ID, 404, "no allow entry " + e.ID},
		}
		for _, tc := range del {
			t.Run("delete "+tc.name, func(t *testing.T) {
				code, body := f.do(t, "DELETE", "/api/v1/findings/allow/"+tc.id, tc.token, "", "")
				if code != tc.code || !strings.Contains(body, tc.want) {
					t.Errorf("got %d %s, want %d with %q", code, body, tc.code, tc.want)
				}
			})
		}
		_, other = f.do(t, "DELETE", "/api/v1/findings/allow/"+e.ID, "xm-token", "", "")
		_, unknown = f.do(t, "DELETE", "/api/v1/findings/allow/nope", "xm-token", "", "")
		if strings.ReplaceAll(other, e.ID, "nope") != unknown {
			t.Errorf("removing another unit's entry answers %s, an unknown one %s: want them alike", other, unknown)
		}
		for _, d := range []struct{ token, id string }{{"edu-token", e.ID}, {"admin-token", everywhere.ID}} {
			if code, body := f.do(t, "DELETE", "/api/v1/findings/allow/"+d.id, d.token, "", ""); code != http.StatusOK {
				t.Fatalf("DELETE %s with %s: %d %s", d.id, d.token, code, body)
			}
		}
		if got := f.entries(t, "admin-token"); len(got) != 1 || got[0].Scope != allow.ScopeUnit {
			t.Errorf("after removals: %+v, want the unit's entry only", got)
		}
		cover, err = f.n.Allows().For(ctx, "weibo/fz-edu-weibo/9", "fz-edu-weibo", "fz-edu")
		if err != nil || len(cover) != 1 || cover[0].Scope != allow.ScopeUnit {
			t.Errorf("after removals the next post is covered by %+v, %v; want the unit's entry only", cover, err)
		}
	})
}

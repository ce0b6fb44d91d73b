package collect

import (
	"context"
	"errors"
	"testing"

	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/collect/linkcheck"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// The collector hands each new version of a post to the link checker: a
// version with links is kept for checking, an unchanged re-push is not
// handed over again, and an edit without links stops the checking.
func TestPublishedVersionsReachTheLinkChecker(t *testing.T) {
	ctx := context.Background()
	st := openState(t)
	reg := newRegistry(t, []registry.Unit{{ID: "fz", Name: "福州市人民政府"}}, []registry.Account{
		{ID: "fz-kuaishou", Name: "福州发布", Platform: "kuaishou", Unit: "fz", Source: registry.Source{Type: "push"}},
	})
	// Nothing is checked here: no pass runs, so no request is made.
	lc, err := linkcheck.New(linkcheck.Options{Registry: reg, Store: st, HTTP: httpclient.New(httpclient.Options{}), Alerts: discardAlerts{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Registry: reg, Sources: map[string]source.Source{"push": nil}, Publisher: &recorder{}, State: st, Links: lc})
	if err != nil {
		t.Fatal(err)
	}
	p := model.Post{Schema: 1, ID: "kuaishou/fz-kuaishou/1", AccountID: "fz-kuaishou", Platform: "kuaishou", NativeID: "1",
		Kind: model.KindPost, Title: "通知", URL: "https://www.kuaishou.com/short-video/1", PublishedAt: t0, CollectedAt: t0,
		Links: []model.Link{{URL: "https://www.fuzhou.gov.cn/zwgk/1.htm", Text: "原文"}}}
	p.ContentHash = model.ContentHashLinks(p.Title, p.Text, p.URL, p.Links)
	if _, err := c.Ingest(ctx, []model.Post{p}); err != nil {
		t.Fatal(err)
	}
	key := "collector/linkcheck/post/" + p.ID
	if _, err := st.Get(ctx, key); err != nil {
		t.Fatalf("the published version's links are not kept for checking: %v", err)
	}
	edited := p
	edited.Links = nil
	edited.ContentHash = model.ContentHashLinks(edited.Title, edited.Text, edited.URL, nil)
	if _, err := c.Ingest(ctx, []model.Post{edited}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after an edit without links: %v, want the post no longer kept", err)
	}
}

type discardAlerts struct{}

func (discardAlerts) PublishAlert(context.Context, *model.Alert) (bool, error) { return false, nil }

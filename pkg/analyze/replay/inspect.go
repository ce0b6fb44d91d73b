package replay

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/govwatch/govwatch/pkg/inspect"
	"github.com/govwatch/govwatch/pkg/model"
)

// history is what a check reads of the replay: each account's last post
// and the alert incidents the analyzer raised, as the history database
// keeps them in a deployment.
type history struct {
	mu        sync.Mutex
	last      map[string]*inspect.PostRef
	incidents map[string][]inspect.Incident // by account
}

func newHistory() *history {
	return &history{last: map[string]*inspect.PostRef{}, incidents: map[string][]inspect.Incident{}}
}

func (h *history) post(p *model.Post) {
	if p.Kind != model.KindPost || p.Deleted {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.last[p.AccountID]; l == nil || p.PublishedAt.After(l.PublishedAt) {
		h.last[p.AccountID] = &inspect.PostRef{ID: p.ID, URL: p.URL, PublishedAt: p.PublishedAt}
	}
}

// alert keeps one firing or resolution, once (the recorder drops repeats).
func (h *history) alert(a *model.Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	acct, fp := a.Labels[model.LabelAccountID], a.Fingerprint()
	incs := h.incidents[acct]
	if a.EndsAt.IsZero() {
		h.incidents[acct] = append(incs, inspect.Incident{Fingerprint: fp, Incident: len(incs) + 1, Category: a.Name(), FiredAt: a.StartsAt,
			Summary: a.Annotations[model.AnnotationSummary], PostID: a.Labels[model.LabelPostID]})
		return
	}
	for i := range incs {
		if incs[i].Fingerprint == fp && incs[i].FiredAt.Equal(a.StartsAt) {
			incs[i].ResolvedAt = a.EndsAt
		}
	}
}

func (h *history) Facts(_ context.Context, a inspect.Account, _ inspect.Period) (*inspect.Facts, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &inspect.Facts{LastPost: h.last[a.ID], Incidents: slices.Clone(h.incidents[a.ID])}, nil
}

// Inspection is the check of the replayed period against the national
// indicators: the analyzer's alerts and the accounts' posts judged at the
// period's end.
type Inspection struct {
	Checked, Failed int
	// Mismatches name the account items the check failed that the script
	// does not explain, and the other way round.
	Mismatches []string       `json:"mismatches"`
	Check      *inspect.Check `json:"-"`
}

// inspectReplay checks every account at the end of s and compares the
// items each failed on its incidents with those the script's incidents
// call for.
func inspectReplay(ctx context.Context, s *script, h *history) (*Inspection, error) {
	rules := inspect.National()
	var accts []inspect.Account
	platform := map[string]string{}
	for _, a := range s.accounts {
		accts = append(accts, inspect.Account{ID: a.ID, Name: a.Name, Platform: a.Platform, Unit: a.Unit})
		platform[a.ID] = a.Platform
	}
	c, err := inspect.Run(ctx, rules, h, inspect.Spec{Scope: "replay", Accounts: accts, Period: inspect.Period{From: Start, At: s.end}, Ratio: 1})
	if err != nil {
		return nil, err
	}
	// What the script calls for: each incident category an account is to
	// fire fails the items of that category (those judged at the time
	// point only while it still fires at the end).
	want := map[string]bool{}
	for _, e := range s.expect {
		if e.Fired == 0 {
			continue
		}
		for _, it := range rules.Items {
			if !slices.Contains(it.Categories, e.Category) || !it.AppliesTo(platform[e.Account]) || it.FiringAtPoint && e.Resolved >= e.Fired {
				continue
			}
			want[e.Account+" "+it.ID] = true
		}
	}
	got := map[string]bool{}
	in := &Inspection{Check: c, Checked: len(c.Results)}
	for _, r := range c.Results {
		if !r.Passed {
			in.Failed++
		}
		for _, f := range r.Findings {
			if f.Evidence[0].Kind == "incident" {
				got[r.Account.ID+" "+f.Item] = true
			}
		}
	}
	for k := range got {
		if !want[k] {
			in.Mismatches = append(in.Mismatches, "failed, not scripted: "+k)
		}
	}
	for k := range want {
		if !got[k] {
			in.Mismatches = append(in.Mismatches, "scripted, not failed: "+k)
		}
	}
	sort.Strings(in.Mismatches)
	return in, nil
}

func (in *Inspection) String() string {
	if len(in.Mismatches) == 0 {
		return fmt.Sprintf("inspection at the end: %d accounts checked, %d failed; each item failed on an incident is one the script calls for, and none it calls for is missing", in.Checked, in.Failed)
	}
	return fmt.Sprintf("inspection at the end: %d accounts checked, %d failed, %d items off the script: %v", in.Checked, in.Failed, len(in.Mismatches), in.Mismatches)
}

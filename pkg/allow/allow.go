// Package allow keeps the entries people write when a content finding is
// not a problem: "this phone number on this post is the hotline", "this
// rule misfires on this account". The notifier's API writes them; the
// content detector reads them before it raises an alert, on every replica,
// from the shared store; `govwatch check --allow` reads a list of them from
// a file.
//
// An entry applies to one post, one account, one unit or everywhere. Each
// scope target has one small JSON list in the store (allow/post/<post_id>,
// allow/account/<account_id>, allow/unit/<unit>, allow/all), updated by
// compare-and-swap, so judging a post costs at most four Gets and never a
// keyspace scan. An index (allow/index) names every entry's list for the
// listing and removal the API offers.
package allow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// The scopes an entry may have.
const (
	ScopePost       = "post"
	ScopeAccount    = "account"
	ScopeUnit       = "unit"
	ScopeEverywhere = "everywhere"
)

// Scopes are the valid scopes, narrowest first.
var Scopes = []string{ScopePost, ScopeAccount, ScopeUnit, ScopeEverywhere}

// MaxPerList bounds one scope target's list: each is read whole for every
// post with findings, so it must stay small.
const MaxPerList = 500

// ErrNotFound is returned for an entry id that is not stored.
var ErrNotFound = errors.New("allow: no such entry")

// ErrFull is returned when a scope target's list holds MaxPerList entries.
var ErrFull = errors.New("allow: list full")

// Entry is one allow entry, as the API answers it and as
// `govwatch check --allow` reads it.
type Entry struct {
	ID    string `json:"id"`
	Scope string `json:"scope"`
	// Target is what the scope names: the post, account or unit id; empty
	// for everywhere.
	Target   string `json:"target,omitempty"`
	Category string `json:"category"`
	// Rule, when set, is the textscan rule the finding must come from.
	Rule string `json:"rule,omitempty"`
	// Match, when set, is the matched text, normalised with
	// textscan.Normalize.
	Match string `json:"match,omitempty"`
	// Reason says why the finding is not a problem.
	Reason string `json:"reason"`
	By     string `json:"by"`
	// Fingerprint and Unit are of the alert the entry was written from;
	// Unit decides which units' tokens see the entry.
	Fingerprint string    `json:"fingerprint,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Validate reports the first problem of e, naming the field.
func (e *Entry) Validate() error {
	switch {
	case !slices.Contains(Scopes, e.Scope):
		return fmt.Errorf("scope %q: want one of %s", e.Scope, strings.Join(Scopes, ", "))
	case e.Scope != ScopeEverywhere && e.Target == "":
		return fmt.Errorf("scope %s needs the %s it applies to", e.Scope, e.Scope)
	case e.Scope == ScopeEverywhere && e.Target != "":
		return fmt.Errorf("scope everywhere names no target (got %q)", e.Target)
	case e.Category == "":
		return errors.New("category is required")
	case strings.TrimSpace(e.Reason) == "":
		return errors.New("reason: say why the finding is not a problem")
	case e.Scope != ScopePost && e.Rule == "" && e.Match == "":
		return fmt.Errorf("scope %s allows a whole category (%s) for every post it covers, which is too broad: give the rule or the match", e.Scope, e.Category)
	}
	return nil
}

// InvalidError is an entry Add refuses: the caller's mistake, not the
// store's.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Matches reports whether e allows f: the same category and, when e gives
// them, the same rule and the same normalised match. Scope is the caller's
// business: it hands in the entries that cover f's post.
func (e *Entry) Matches(f *textscan.Finding) bool {
	return e.Category == f.Category &&
		(e.Rule == "" || e.Rule == f.Rule) &&
		(e.Match == "" || e.Match == textscan.Normalize(f.Match))
}

// Filter returns the findings of fs no entry of es allows. It returns fs
// itself when es is empty.
func Filter(fs []textscan.Finding, es []Entry) []textscan.Finding {
	if len(es) == 0 {
		return fs
	}
	out := fs[:0:0]
	for i := range fs {
		if !slices.ContainsFunc(es, func(e Entry) bool { return e.Matches(&fs[i]) }) {
			out = append(out, fs[i])
		}
	}
	return out
}

// Key is the store key of a scope target's list.
func Key(scope, target string) string {
	if scope == ScopeEverywhere {
		return "allow/all"
	}
	return "allow/" + scope + "/" + target
}

const indexKey = "allow/index"

// ref is one line of the index: where an entry's list is.
type ref struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Store is the part of store.Store the entries need.
type Store interface {
	store.Swapper
}

// Entries are the allow entries in a store.
type Entries struct {
	st Store
}

// New returns the entries kept in st.
func New(st Store) *Entries { return &Entries{st: st} }

// Add normalises e's match, validates e (a problem is an *InvalidError),
// gives it an id when it has none and stores it. The index is written first, so an entry is never in a list
// without being listed; an index line whose entry is missing is skipped.
func (es *Entries) Add(ctx context.Context, e Entry) (Entry, error) {
	if e.Match != "" {
		e.Match = textscan.Normalize(e.Match)
	}
	if err := e.Validate(); err != nil {
		return e, &InvalidError{err}
	}
	if e.ID == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return e, err
		}
		e.ID = hex.EncodeToString(b)
	}
	key := Key(e.Scope, e.Target)
	if _, err := store.UpdateJSON(ctx, es.st, indexKey, true, func(idx *[]ref, _ bool) (bool, time.Duration, error) {
		if slices.ContainsFunc(*idx, func(r ref) bool { return r.ID == e.ID }) {
			return false, 0, nil
		}
		*idx = append(*idx, ref{ID: e.ID, Key: key})
		return true, 0, nil
	}); err != nil {
		return e, err
	}
	_, err := store.UpdateJSON(ctx, es.st, key, true, func(list *[]Entry, _ bool) (bool, time.Duration, error) {
		if i := slices.IndexFunc(*list, func(x Entry) bool { return x.ID == e.ID }); i >= 0 {
			(*list)[i] = e
			return true, 0, nil
		}
		if len(*list) >= MaxPerList {
			return false, 0, fmt.Errorf("%w: %s already holds %d entries, the most one %s may have; remove some first", ErrFull, key, MaxPerList, e.Scope)
		}
		*list = append(*list, e)
		return true, 0, nil
	})
	return e, err
}

// For returns the entries that cover a post: its own, its account's, its
// unit's and those everywhere, in at most four Gets.
func (es *Entries) For(ctx context.Context, postID, accountID, unit string) ([]Entry, error) {
	var out []Entry
	for _, k := range []string{Key(ScopePost, postID), Key(ScopeAccount, accountID), Key(ScopeUnit, unit), Key(ScopeEverywhere, "")} {
		if strings.HasSuffix(k, "/") { // a post without account or unit
			continue
		}
		list, err := es.read(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

func (es *Entries) read(ctx context.Context, key string) ([]Entry, error) {
	return readJSON[Entry](ctx, es.st, key)
}

func (es *Entries) index(ctx context.Context) ([]ref, error) {
	return readJSON[ref](ctx, es.st, indexKey)
}

// readJSON reads the JSON list at key; an absent key is an empty list.
func readJSON[T any](ctx context.Context, st Store, key string) ([]T, error) {
	b, err := st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var list []T
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("decode %s: %w", key, err)
	}
	return list, nil
}

// List returns every entry, oldest first: one Get for the index and one
// for each list it names.
func (es *Entries) List(ctx context.Context) ([]Entry, error) {
	idx, err := es.index(ctx)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	seen := map[string]bool{}
	for _, r := range idx {
		if seen[r.Key] {
			continue
		}
		seen[r.Key] = true
		list, err := es.read(ctx, r.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Get returns the entry id, or ErrNotFound.
func (es *Entries) Get(ctx context.Context, id string) (Entry, error) {
	idx, err := es.index(ctx)
	if err != nil {
		return Entry{}, err
	}
	i := slices.IndexFunc(idx, func(r ref) bool { return r.ID == id })
	if i < 0 {
		return Entry{}, ErrNotFound
	}
	list, err := es.read(ctx, idx[i].Key)
	if err != nil {
		return Entry{}, err
	}
	if j := slices.IndexFunc(list, func(e Entry) bool { return e.ID == id }); j >= 0 {
		return list[j], nil
	}
	return Entry{}, ErrNotFound
}

// Remove deletes the entry id from its list, then from the index.
// Removing an absent entry returns ErrNotFound.
func (es *Entries) Remove(ctx context.Context, id string) error {
	e, err := es.Get(ctx, id)
	if err != nil {
		return err
	}
	if _, err := store.UpdateJSON(ctx, es.st, Key(e.Scope, e.Target), true, func(list *[]Entry, _ bool) (bool, time.Duration, error) {
		*list = slices.DeleteFunc(*list, func(x Entry) bool { return x.ID == id })
		return true, 0, nil
	}); err != nil {
		return err
	}
	_, err = store.UpdateJSON(ctx, es.st, indexKey, true, func(idx *[]ref, _ bool) (bool, time.Duration, error) {
		*idx = slices.DeleteFunc(*idx, func(r ref) bool { return r.ID == id })
		return true, 0, nil
	})
	return err
}

// Read decodes a file of entries: the list endpoint's answer
// ({"status": "success", "data": [...]}) or a bare JSON array. Entries
// are checked as Add checks them; a problem names the entry.
func Read(r io.Reader) ([]Entry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var list []Entry
	trimmed := strings.TrimSpace(string(b))
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(b, &list)
	} else {
		var doc struct {
			Data *[]Entry `json:"data"`
		}
		err = json.Unmarshal(b, &doc)
		if err == nil && doc.Data == nil {
			err = errors.New(`want a JSON array of entries or the list endpoint's {"data": [...]}`)
		}
		if doc.Data != nil {
			list = *doc.Data
		}
	}
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Match != "" {
			list[i].Match = textscan.Normalize(list[i].Match)
		}
		if err := list[i].Validate(); err != nil {
			return nil, fmt.Errorf("entry %d (id %q): %w", i+1, list[i].ID, err)
		}
	}
	return list, nil
}

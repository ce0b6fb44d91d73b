// Package silence keeps silences — matchers, start, end, author and comment,
// as in Alertmanager — in the store, where every notifier replica sees them.
// A silenced alert keeps its lifecycle but pages nobody and does not escalate.
package silence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/store"
)

// States of a silence.
const (
	StatePending = "pending"
	StateActive  = "active"
	StateExpired = "expired"
)

// Retention is how long an expired silence stays listed.
const Retention = 5 * 24 * time.Hour

// ErrNotFound is returned for an unknown or long-expired silence.
var ErrNotFound = errors.New("silence not found")

// Matcher is Alertmanager's API form of a matcher.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"` // nil means true, as in Alertmanager
}

func (m Matcher) compile() (*match.Matcher, error) {
	eq := m.IsEqual == nil || *m.IsEqual
	op := map[[2]bool]string{{false, true}: match.Equal, {false, false}: match.NotEqual, {true, true}: match.Regexp, {true, false}: match.NotRegexp}[[2]bool{m.IsRegex, eq}]
	return match.New(m.Name, op, m.Value)
}

// Silence mutes the alerts its matchers match between StartsAt and EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// State of s at now.
func (s *Silence) State(now time.Time) string {
	switch {
	case !now.Before(s.EndsAt):
		return StateExpired
	case now.Before(s.StartsAt):
		return StatePending
	}
	return StateActive
}

// Validate checks s as Alertmanager does.
func (s *Silence) Validate() error {
	if len(s.Matchers) == 0 {
		return errors.New("at least one matcher is required")
	}
	allEmpty := true
	for i, m := range s.Matchers {
		c, err := m.compile()
		if err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		if !c.Matches(model.LabelSet{}) {
			allEmpty = false
		}
	}
	if allEmpty {
		return errors.New("the matchers match every alert, even one without labels")
	}
	if s.EndsAt.IsZero() || s.StartsAt.IsZero() {
		return errors.New("startsAt and endsAt are required")
	}
	if !s.EndsAt.After(s.StartsAt) {
		return fmt.Errorf("endsAt %s is not after startsAt %s", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	if s.CreatedBy == "" {
		return errors.New("createdBy is required")
	}
	if s.Comment == "" {
		return errors.New("comment is required")
	}
	return nil
}

// Set is the silences active at one moment, their matchers compiled once
// so that checking many alerts compiles no pattern again.
type Set struct {
	ids      []string
	matchers []match.Matchers
}

// ActiveAt returns the silences of all that are active at now. One whose
// matchers do not compile mutes nothing.
func ActiveAt(all []Silence, now time.Time) *Set {
	set := &Set{}
next:
	for i := range all {
		if all[i].State(now) != StateActive {
			continue
		}
		ms := make(match.Matchers, 0, len(all[i].Matchers))
		for _, m := range all[i].Matchers {
			c, err := m.compile()
			if err != nil {
				continue next
			}
			ms = append(ms, c)
		}
		set.ids = append(set.ids, all[i].ID)
		set.matchers = append(set.matchers, ms)
	}
	return set
}

// Muting returns the ids of the silences in set that mute ls.
func (set *Set) Muting(ls model.LabelSet) []string {
	var ids []string
	for i, ms := range set.matchers {
		if ms.Matches(ls) {
			ids = append(ids, set.ids[i])
		}
	}
	return ids
}

// Silences is the store of silences.
type Silences struct {
	st    store.Store
	clock clockwork.Clock
}

// New returns the silences kept in st.
func New(st store.Store, clock clockwork.Clock) *Silences {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Silences{st: st, clock: clock}
}

func key(id string) string { return "notifier/silence/" + id }

// Set stores s: a new silence when ID is empty, else a replacement of the
// silence with that ID. It returns the ID.
func (ss *Silences) Set(ctx context.Context, s Silence) (string, error) {
	now := ss.clock.Now()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if err := s.Validate(); err != nil {
		return "", err
	}
	if s.ID == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		s.ID = fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[:4]), hex.EncodeToString(b[4:6]), hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:]))
	} else if _, err := ss.Get(ctx, s.ID); err != nil {
		return "", err
	}
	s.UpdatedAt = now
	if !now.Before(s.EndsAt) {
		return "", errors.New("the silence would already be expired")
	}
	return s.ID, ss.put(ctx, s)
}

func (ss *Silences) put(ctx context.Context, s Silence) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	ttl := s.EndsAt.Sub(ss.clock.Now()) + Retention
	return ss.st.Set(ctx, key(s.ID), b, max(ttl, time.Second))
}

// Get returns the silence with id.
func (ss *Silences) Get(ctx context.Context, id string) (Silence, error) {
	b, err := ss.st.Get(ctx, key(id))
	if errors.Is(err, store.ErrNotFound) {
		return Silence{}, ErrNotFound
	}
	if err != nil {
		return Silence{}, err
	}
	var s Silence
	if err := json.Unmarshal(b, &s); err != nil {
		return Silence{}, fmt.Errorf("silence %s: %w", id, err)
	}
	return s, nil
}

// Expire ends the silence with id now.
func (ss *Silences) Expire(ctx context.Context, id string) error {
	s, err := ss.Get(ctx, id)
	if err != nil {
		return err
	}
	now := ss.clock.Now()
	if s.State(now) == StateExpired {
		return nil
	}
	if now.Before(s.StartsAt) {
		s.StartsAt = now
	}
	s.EndsAt = now
	s.UpdatedAt = now
	return ss.put(ctx, s)
}

// silenceKind indexes the silences, which every handled alert lists.
var silenceKind = store.DeclareKind("notifier/silence/", 1)

// List returns every silence kept, active first, then pending, then expired.
func (ss *Silences) List(ctx context.Context) ([]Silence, error) {
	var out []Silence
	err := ss.st.List(ctx, silenceKind, func(_ string, v []byte) error {
		var s Silence
		if json.Unmarshal(v, &s) == nil {
			out = append(out, s)
		}
		return nil
	})
	now := ss.clock.Now()
	rank := map[string]int{StateActive: 0, StatePending: 1, StateExpired: 2}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank[out[i].State(now)], rank[out[j].State(now)]
		if ri != rj {
			return ri < rj
		}
		return out[i].EndsAt.Before(out[j].EndsAt)
	})
	return out, err
}

package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

// grouper is the grouping stage, as Alertmanager's dispatcher groups, but
// with no timer held in memory: each group's state, and the moment its next
// notification is due, are kept in the store; the tick flushes the groups
// that are due under a claim per group and flush time, so a restart neither
// loses a group nor, with two replicas, sends it twice. A delivery to a
// receiver whose route groups ends here: it joins its group, which is sent
// at once only when due (a critical alert skips group_wait).
type grouper struct {
	store     store.Store
	clock     clockwork.Clock
	log       *zap.Logger
	receivers map[string]Receiver
	route     *Route
	records   *lifecycle
	inhibitor *inhibitor
	silencer  *silencer
	sender    *sender
	notes     *composer
}

func (gr *grouper) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	if d.dest.GroupBy == nil {
		return d, nil
	}
	key, due, err := gr.enqueue(ctx, d.dest, d.rec)
	if err == nil && !gr.clock.Now().Before(due) {
		err = gr.flush(ctx, key) // a critical alert skips group_wait
	}
	return nil, err
}

// group is the stored state of one aggregation group.
type group struct {
	Receiver  string            `json:"receiver"`
	Labels    map[string]string `json:"labels"`
	Created   time.Time         `json:"created"`
	NextFlush time.Time         `json:"nextFlush"`
	LastFlush time.Time         `json:"lastFlush,omitzero"`
	// Members are the fingerprints in the group; Notified what each was
	// last notified as ("<incident>/<status>").
	Members  []string          `json:"members"`
	Notified map[string]string `json:"notified,omitempty"`
}

const groupPrefix = "notifier/group/"

// idleGroup is the next flush of a group with no members: never, in practice.
const idleGroup = 10 * 365 * 24 * time.Hour

func groupKey(receiver string, labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		fmt.Fprintf(h, "%s\xff%s\xff", k, labels[k])
	}
	return groupPrefix + receiver + "/" + hex.EncodeToString(h.Sum(nil)[:8])
}

// groupLabels picks the labels of ls that m groups by.
func groupLabels(m Matched, ls model.LabelSet) map[string]string {
	out := map[string]string{}
	if slices.Contains(m.GroupBy, "...") {
		for k, v := range ls {
			out[k] = v
		}
		return out
	}
	for _, k := range m.GroupBy {
		if v, ok := ls[k]; ok {
			out[k] = v
		}
	}
	return out
}

func stateOf(r *Record) string { return strconv.Itoa(r.Incident) + "/" + r.notifyStatus() }

// enqueue adds r to its group for m and says when the group is due. A
// change (a new incident, a resolution) brings the flush forward: to the end
// of group_wait for a group never notified (at once for a critical alert),
// else to the end of group_interval after the last notification.
func (gr *grouper) enqueue(ctx context.Context, m Matched, r *Record) (string, time.Time, error) {
	labels := groupLabels(m, r.Alert.Labels)
	key := groupKey(m.Receiver, labels)
	critical := r.Alert.Labels[model.LabelSeverity] == model.SeverityCritical
	g, err := store.UpdateJSON(ctx, gr.store, key, true, func(g *group, found bool) (bool, time.Duration, error) {
		now := gr.clock.Now()
		if !found {
			*g = group{Receiver: m.Receiver, Labels: labels, Created: now, NextFlush: now.Add(m.GroupWait)}
		}
		if g.Notified[r.Fingerprint] == stateOf(r) {
			return false, 0, nil // nothing new for this group
		}
		if r.Status == StatusResolved && !slices.Contains(g.Members, r.Fingerprint) {
			return false, 0, nil // never notified here: nothing to resolve
		}
		if !slices.Contains(g.Members, r.Fingerprint) {
			g.Members = append(g.Members, r.Fingerprint)
		}
		due := now.Add(m.GroupWait)
		if critical && g.LastFlush.IsZero() {
			due = now
		}
		if !g.LastFlush.IsZero() {
			due = g.LastFlush.Add(m.GroupInterval)
		}
		if due.Before(g.NextFlush) {
			g.NextFlush = due
		}
		return true, 0, nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return key, g.NextFlush, nil
}

// groupKind indexes the groups, which every tick lists.
var groupKind = store.DeclareKind(groupPrefix, 1)

// flushDue flushes every group whose time has come.
func (gr *grouper) flushDue(ctx context.Context) error {
	now := gr.clock.Now()
	var due []string
	err := gr.store.List(ctx, groupKind, func(k string, v []byte) error {
		var g group
		if json.Unmarshal(v, &g) == nil && !now.Before(g.NextFlush) {
			due = append(due, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range due {
		if err := gr.flush(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flush sends group key's notification if it is due, under a claim for this
// group and flush time: claim, send, then move the group on.
func (gr *grouper) flush(ctx context.Context, key string) error {
	raw, err := gr.store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var g group
	if err := json.Unmarshal(raw, &g); err != nil {
		return fmt.Errorf("group %s: %w", key, err)
	}
	now := gr.clock.Now()
	if now.Before(g.NextFlush) {
		return nil
	}
	recv, ok := gr.receivers[g.Receiver]
	if !ok {
		return gr.store.Delete(ctx, key) // receiver removed from the config
	}
	claim := fmt.Sprintf("notifier/groupflush/%s/%d", strings.TrimPrefix(key, groupPrefix), g.NextFlush.UnixNano())
	won, err := gr.store.SetNX(ctx, claim, []byte(logPending), ClaimTTL)
	if err != nil || !won {
		return err // another replica flushes it
	}
	var members []*Record
	for _, fp := range g.Members {
		r, err := gr.records.get(ctx, fp)
		if errors.Is(err, ErrNoAlert) {
			continue
		}
		if err != nil {
			return errors.Join(err, gr.store.Delete(ctx, claim))
		}
		members = append(members, r)
	}
	idx, err := gr.inhibitor.indexFor(ctx, members...)
	if err != nil {
		return errors.Join(err, gr.store.Delete(ctx, claim))
	}
	sils, err := gr.silencer.active(ctx)
	if err != nil {
		return errors.Join(err, gr.store.Delete(ctx, claim))
	}
	var recs []*Record
	for _, r := range members {
		if r.Status != StatusResolved {
			if m, err := muted(ctx, &delivery{rec: r, silences: sils, inhibitor: idx}, gr.inhibitor, gr.silencer); err != nil || m {
				continue
			}
		}
		recs = append(recs, r)
	}
	changed, firing := false, false
	var repeat time.Duration = DefaultRepeatInterval
	for _, r := range recs {
		if g.Notified[r.Fingerprint] != stateOf(r) {
			changed = true
		}
		if r.Active() {
			firing = true
			for _, m := range gr.route.Destinations(r.Alert.Labels) {
				if m.Receiver == g.Receiver {
					repeat = m.RepeatInterval
				}
			}
		}
	}
	send := changed || firing && !g.LastFlush.IsZero() && !now.Before(g.LastFlush.Add(repeat))
	if send && len(recs) > 0 {
		note := gr.notes.group(&g, recs)
		note.ID = notificationID(claim, g.Receiver)
		err := gr.sender.send(ctx, recv, note)
		if err != nil && channel.Retryable(err) {
			return errors.Join(fmt.Errorf("group %s: %w", key, err), gr.store.Delete(context.WithoutCancel(ctx), claim))
		}
		if err != nil {
			gr.log.Error("group notification failed for good", zap.String("receiver", g.Receiver), zap.Error(err))
		} else {
			gr.log.Info("notified group", zap.String("receiver", g.Receiver), zap.Int("alerts", len(recs)))
		}
	}
	if err := gr.store.Set(ctx, claim, []byte(logSent), nflogTTL); err != nil {
		return err
	}
	return gr.moveOn(ctx, key, recs, firing, repeat, send)
}

// moveOn records what the flush notified and when the group is next due;
// a group with nothing firing left is dropped.
func (gr *grouper) moveOn(ctx context.Context, key string, sent []*Record, firing bool, repeat time.Duration, notified bool) error {
	_, err := store.UpdateJSON(ctx, gr.store, key, true, func(g *group, found bool) (bool, time.Duration, error) {
		if !found {
			return false, 0, nil
		}
		now := gr.clock.Now()
		if g.Notified == nil {
			g.Notified = map[string]string{}
		}
		if notified {
			g.LastFlush = now
		}
		for _, r := range sent {
			if notified {
				g.Notified[r.Fingerprint] = stateOf(r)
			}
			if r.Status == StatusResolved {
				g.Members = slices.DeleteFunc(g.Members, func(fp string) bool { return fp == r.Fingerprint })
				delete(g.Notified, r.Fingerprint)
			}
		}
		g.NextFlush = now.Add(repeat)
		if len(g.Members) == 0 && !firing {
			// Nothing left: the group idles until a new alert joins it, and
			// is forgotten after a day.
			g.NextFlush = now.Add(idleGroup)
			return true, 24 * time.Hour, nil
		}
		return true, 0, nil
	})
	return err
}

func groupKeyString(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return "{}:{" + strings.Join(parts, ", ") + "}"
}

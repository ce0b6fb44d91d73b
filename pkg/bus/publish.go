package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govwatch/govwatch/pkg/model"
)

// PublishPost publishes p on <prefix>.post.<platform>.<account_id> with
// Nats-Msg-Id p.MsgID(). duplicate is true when JetStream already held that
// id inside the duplicate window (an unchanged re-poll) and stored nothing.
// A failed publish may be retried with the same post: the id makes it safe.
func (b *Bus) PublishPost(ctx context.Context, p *model.Post) (duplicate bool, err error) {
	subj, err := PostSubject(b.opts.Prefix, p.Platform, p.AccountID)
	if err != nil {
		return false, fmt.Errorf("publish post %q: %w", p.ID, err)
	}
	if p.ID == "" || (p.ContentHash == "" && !p.Deleted) {
		return false, fmt.Errorf("publish post %q: missing id or content hash", p.ID)
	}
	return b.publish(ctx, KindPost, subj, p.MsgID(), p)
}

// PublishPostMetrics publishes p, a re-polled post whose content is
// unchanged but whose engagement counts moved, with the collector's msgID
// ("<post id>@<content_hash>@m<buckets>", see docs/subjects.md): the
// content version's id would be dropped as a duplicate.
func (b *Bus) PublishPostMetrics(ctx context.Context, p *model.Post, msgID string) (duplicate bool, err error) {
	subj, err := PostSubject(b.opts.Prefix, p.Platform, p.AccountID)
	if err != nil {
		return false, fmt.Errorf("publish post %q: %w", p.ID, err)
	}
	if p.ID == "" || p.ContentHash == "" || msgID == "" {
		return false, fmt.Errorf("publish post %q: missing id, content hash or msg id", p.ID)
	}
	return b.publish(ctx, KindPost, subj, msgID, p)
}

// PublishSnapshot publishes s on <prefix>.snapshot.<platform>.<account_id>
// with Nats-Msg-Id "<platform>/<account_id>@<taken_at RFC 3339, UTC>".
func (b *Bus) PublishSnapshot(ctx context.Context, s *model.AccountSnapshot) error {
	subj, err := SnapshotSubject(b.opts.Prefix, s.Platform, s.AccountID)
	if err != nil {
		return fmt.Errorf("publish snapshot %s: %w", s.AccountID, err)
	}
	if s.TakenAt.IsZero() {
		return fmt.Errorf("publish snapshot %s: zero taken_at", s.AccountID)
	}
	_, err = b.publish(ctx, KindSnapshot, subj, SnapshotMsgID(s), s)
	return err
}

// PublishProbe publishes r on <prefix>.probe.<platform>.<account_id> with
// Nats-Msg-Id "<platform>/<account_id>@<checked_at>#<target>".
func (b *Bus) PublishProbe(ctx context.Context, r *model.ProbeResult) error {
	subj, err := ProbeSubject(b.opts.Prefix, r.Platform, r.AccountID)
	if err != nil {
		return fmt.Errorf("publish probe %s: %w", r.AccountID, err)
	}
	if r.CheckedAt.IsZero() {
		return fmt.Errorf("publish probe %s: zero checked_at", r.AccountID)
	}
	_, err = b.publish(ctx, KindProbe, subj, ProbeMsgID(r), r)
	return err
}

// PublishAlert publishes a on <prefix>.alert.<alertname> with Nats-Msg-Id
// AlertMsgID(a). duplicate is true when the same firing (or resolution) was
// published before inside the window, e.g. by another analyzer replica.
func (b *Bus) PublishAlert(ctx context.Context, a *model.Alert) (duplicate bool, err error) {
	subj, err := AlertSubject(b.opts.Prefix, a.Name())
	if err != nil {
		return false, fmt.Errorf("publish alert %s: %w", a.Fingerprint(), err)
	}
	if a.StartsAt.IsZero() {
		return false, fmt.Errorf("publish alert %s: zero startsAt", a.Fingerprint())
	}
	return b.publish(ctx, KindAlert, subj, AlertMsgID(a), a)
}

// SnapshotMsgID is the Nats-Msg-Id of an account snapshot.
func SnapshotMsgID(s *model.AccountSnapshot) string {
	return s.Platform + "/" + s.AccountID + "@" + s.TakenAt.UTC().Format(time.RFC3339Nano)
}

// ProbeMsgID is the Nats-Msg-Id of a probe result.
func ProbeMsgID(r *model.ProbeResult) string {
	return r.Platform + "/" + r.AccountID + "@" + r.CheckedAt.UTC().Format(time.RFC3339Nano) + "#" + r.Target
}

// AlertMsgID is "<fingerprint>@<startsAt unix nanos>@firing", or "@resolved"
// when EndsAt is set: one firing and one resolution per alert episode pass,
// repeats by other replicas are dropped.
func AlertMsgID(a *model.Alert) string {
	state := "firing"
	if !a.EndsAt.IsZero() {
		state = "resolved"
	}
	return a.Fingerprint() + "@" + strconv.FormatInt(a.StartsAt.UnixNano(), 10) + "@" + state
}

func (b *Bus) publish(ctx context.Context, k Kind, subj, msgID string, v any) (bool, error) {
	stream := b.Stream(k)
	data, err := json.Marshal(v)
	if err != nil {
		b.metrics.publishedInc(stream, "error")
		return false, fmt.Errorf("publish %s: %w", subj, err)
	}
	msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{}}
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(stream))
	if err != nil {
		b.metrics.publishedInc(stream, "error")
		return false, fmt.Errorf("publish %s: %w", subj, err)
	}
	if ack.Duplicate {
		b.metrics.publishedInc(stream, "duplicate")
		return true, nil
	}
	b.metrics.publishedInc(stream, "ok")
	return false, nil
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Reasons a message is dead-lettered, the reason label of
// govwatch_bus_deadlettered_total and the Govwatch-Dead-Reason header.
const (
	ReasonPoison        = "poison"         // the handler returned Permanent: bad JSON, a wrong subject
	ReasonMaxDeliveries = "max_deliveries" // the handler failed the last of MaxDeliver deliveries
)

// Headers of a dead-lettered message; the original headers are kept, except
// Nats-Msg-Id, which moves to HeaderDeadMsgID.
const (
	HeaderDeadSubject    = "Govwatch-Dead-Subject"    // the original subject, where replay publishes
	HeaderDeadStream     = "Govwatch-Dead-Stream"     // the original stream
	HeaderDeadSeq        = "Govwatch-Dead-Seq"        // its sequence in the original stream
	HeaderDeadConsumer   = "Govwatch-Dead-Consumer"   // the durable consumer that gave up
	HeaderDeadError      = "Govwatch-Dead-Error"      // the handler's error, at most 1000 bytes
	HeaderDeadDeliveries = "Govwatch-Dead-Deliveries" // deliveries spent
	HeaderDeadAt         = "Govwatch-Dead-At"         // when, RFC 3339 UTC
	HeaderDeadReason     = "Govwatch-Dead-Reason"     // ReasonPoison or ReasonMaxDeliveries
	HeaderDeadMsgID      = "Govwatch-Dead-Msg-Id"     // the original Nats-Msg-Id, if any
)

// DeadLetterStream is the stream of messages no handler could process under
// prefix: "GOVWATCH_DEADLETTER" for the default prefix.
func DeadLetterStream(prefix string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return strings.ToUpper(prefix) + "_DEADLETTER"
}

// DeadLetterSubject is where a message that failed on subject goes:
// "<prefix>.deadletter." followed by subject without its prefix, e.g.
// govwatch.deadletter.post.weibo.fj-gov-weibo.
func DeadLetterSubject(prefix, subject string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + ".deadletter." + strings.TrimPrefix(subject, prefix+".")
}

// DeadLetterStreamConfig is the configuration EnsureStreams applies to the
// dead-letter stream: like the others (limits, file storage, replicas, max
// age), capturing "<prefix>.deadletter.>".
func (b *Bus) DeadLetterStreamConfig() jetstream.StreamConfig {
	return b.streamConfig(DeadLetterStream(b.opts.Prefix), "govwatch messages no handler could process; govwatch deadletter list|replay",
		b.opts.Prefix+".deadletter.>")
}

// deadLetter publishes m to the dead-letter stream. When the publish fails
// (NATS is what is down) the consumer pauses and retries it; it returns
// false only when ctx ended first.
func (b *Bus) deadLetter(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, m jetstream.Msg, msg Message, herr error, reason string) bool {
	out := nats.NewMsg(DeadLetterSubject(b.opts.Prefix, msg.Subject))
	out.Data = msg.Data
	for k, vs := range msg.Header {
		if !strings.HasPrefix(k, "Nats-") { // publish controls: Msg-Id, Expected-Stream
			out.Header[k] = vs
		}
	}
	if id := msg.Header.Get(nats.MsgIdHdr); id != "" {
		out.Header.Set(HeaderDeadMsgID, id)
	}
	out.Header.Set(HeaderDeadSubject, msg.Subject)
	out.Header.Set(HeaderDeadStream, c.Stream)
	out.Header.Set(HeaderDeadSeq, strconv.FormatUint(msg.StreamSeq, 10))
	out.Header.Set(HeaderDeadConsumer, c.Durable)
	out.Header.Set(HeaderDeadError, truncate(strings.ReplaceAll(herr.Error(), "\n", " "), 1000))
	out.Header.Set(HeaderDeadDeliveries, strconv.FormatUint(msg.NumDelivered, 10))
	out.Header.Set(HeaderDeadAt, time.Now().UTC().Format(time.RFC3339))
	out.Header.Set(HeaderDeadReason, reason)
	// Replicas giving up on the same delivery store it once.
	id := fmt.Sprintf("%s/%s/%d", c.Stream, c.Durable, msg.StreamSeq)
	publish := func() error {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, err := b.js.PublishMsg(pctx, out, jetstream.WithMsgID(id))
		if err != nil {
			return Unavailable(fmt.Errorf("publish to %s: %w", out.Subject, err))
		}
		return nil
	}
	err := publish()
	for err != nil {
		var shutdown bool
		if err, shutdown = b.hold(ctx, c, g, log, m, err, publish); shutdown {
			return false
		}
	}
	b.metrics.deadLetteredInc(c.Stream, reason)
	return true
}

// DeadLetter is one message in the dead-letter stream.
type DeadLetter struct {
	ID         uint64    `json:"id"` // sequence in the dead-letter stream
	Subject    string    `json:"subject"`
	Stream     string    `json:"stream"`
	StreamSeq  uint64    `json:"stream_seq"`
	Consumer   string    `json:"consumer"`
	Reason     string    `json:"reason"`
	Error      string    `json:"error"`
	Deliveries uint64    `json:"deliveries"`
	FailedAt   time.Time `json:"failed_at"`
	Size       int       `json:"size"`
	header     nats.Header
	data       []byte
}

func deadLetterOf(seq uint64, h nats.Header, data []byte) DeadLetter {
	d := DeadLetter{ID: seq, Subject: h.Get(HeaderDeadSubject), Stream: h.Get(HeaderDeadStream), Consumer: h.Get(HeaderDeadConsumer),
		Reason: h.Get(HeaderDeadReason), Error: h.Get(HeaderDeadError), Size: len(data), header: h, data: data}
	d.StreamSeq, _ = strconv.ParseUint(h.Get(HeaderDeadSeq), 10, 64)
	d.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDeadDeliveries), 10, 64)
	d.FailedAt, _ = time.Parse(time.RFC3339, h.Get(HeaderDeadAt))
	return d
}

// DeadLetters lists the dead-letter stream, oldest first.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	name := DeadLetterStream(b.opts.Prefix)
	s, err := b.js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	st := s.CachedInfo().State
	var out []DeadLetter
	if st.Msgs == 0 {
		return out, nil
	}
	for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // replayed and removed
		}
		if err != nil {
			return nil, fmt.Errorf("dead letter %d: %w", seq, err)
		}
		out = append(out, deadLetterOf(seq, raw.Header, raw.Data))
	}
	return out, nil
}

// ReplayDeadLetter publishes dead letter id to its original subject, with
// its original headers and a Nats-Msg-Id of "<original>@replay-<id>" (so a
// repeated replay is dropped as a duplicate), and removes it from the
// dead-letter stream.
func (b *Bus) ReplayDeadLetter(ctx context.Context, id uint64) (DeadLetter, error) {
	name := DeadLetterStream(b.opts.Prefix)
	s, err := b.js.Stream(ctx, name)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letters: %w", err)
	}
	raw, err := s.GetMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return DeadLetter{}, fmt.Errorf("dead letter %d: not in %s (replayed already, expired or never there)", id, name)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, err)
	}
	d := deadLetterOf(id, raw.Header, raw.Data)
	if d.Subject == "" {
		return d, fmt.Errorf("dead letter %d: no %s header; not written by govwatch", id, HeaderDeadSubject)
	}
	out := nats.NewMsg(d.Subject)
	out.Data = d.data
	for k, vs := range d.header {
		if !strings.HasPrefix(k, "Govwatch-Dead-") {
			out.Header[k] = vs
		}
	}
	msgID := d.header.Get(HeaderDeadMsgID)
	if msgID == "" {
		msgID = fmt.Sprintf("%s/%d", d.Stream, d.StreamSeq)
	}
	if _, err := b.js.PublishMsg(ctx, out, jetstream.WithMsgID(fmt.Sprintf("%s@replay-%d", msgID, id))); err != nil {
		return d, fmt.Errorf("replay dead letter %d to %s: %w", id, d.Subject, err)
	}
	if err := s.DeleteMsg(ctx, id); err != nil {
		return d, fmt.Errorf("dead letter %d replayed to %s, but not removed: %w", id, d.Subject, err)
	}
	return d, nil
}

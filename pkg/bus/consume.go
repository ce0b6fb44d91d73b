package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Consumer defaults, applied to zero ConsumerConfig fields.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxDeliver    = 5
	DefaultMaxAckPending = 1000
)

// pullExpiry bounds each pull request; its heartbeat is half of it.
const pullExpiry = 5 * time.Second

// DefaultBackoff is the Nak delay after a handler's 1st, 2nd, … failure; the
// last one repeats.
var defaultBackoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, time.Minute}

// DefaultBackoff returns the Nak delays used when ConsumerConfig.Backoff is empty.
func DefaultBackoff() []time.Duration { return append([]time.Duration(nil), defaultBackoff...) }

// ConsumerConfig describes a durable pull consumer with explicit acks. Every
// process consuming with the same Stream and Durable shares its messages:
// that is how replicas scale. The consumer is created or updated on Consume,
// so the last process started decides its settings.
type ConsumerConfig struct {
	// Stream is the stream to read, e.g. StreamPosts or Bus.Stream(KindPost).
	Stream string
	// Durable names the consumer; [A-Za-z0-9_-]+.
	Durable string
	// FilterSubjects restricts the subjects delivered; empty means all.
	FilterSubjects []string
	// AckWait is how long a handler may run before the message is assumed
	// lost and redelivered; handlers get a context with this deadline.
	// Default 30s.
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one message, default 5; -1 is unlimited.
	// After the last one the server emits a MAX_DELIVERIES advisory and the
	// message stays in the stream.
	MaxDeliver int
	// Backoff is the delay before redelivery after the handler's n-th plain
	// error (index n-1, the last repeats). Default DefaultBackoff. It is
	// applied with Nak, not as the server's BackOff, which would replace
	// AckWait and cut slow handlers short.
	Backoff []time.Duration
	// MaxAckPending bounds unacknowledged messages across all processes,
	// default 1000.
	MaxAckPending int
	// Concurrency is the number of handlers running at once in this
	// process, default 1, which keeps per-consumer order.
	Concurrency int
	// Key, when set, keeps order per key with Concurrency above 1: the
	// messages of one key (an alert's fingerprint, say) are handled one
	// after the other, in stream order, by the same handler, while other
	// keys' run beside them. Nil: any handler takes the next message.
	Key func(subject string, h nats.Header) string
	// Prefetch is how many messages are buffered ahead of the handlers,
	// default 8 per handler. Keep Prefetch × handler time well below AckWait.
	Prefetch int
	// ProbeInterval is how often a consumer paused by a handler's
	// Unavailable error checks its dependencies (the NATS connection and the
	// bus's SetDependencyCheck) before retrying the held message. Default
	// DefaultProbeInterval.
	ProbeInterval time.Duration
}

func (c *ConsumerConfig) setDefaults() {
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if len(c.Backoff) == 0 {
		c.Backoff = DefaultBackoff()
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if c.Prefetch == 0 {
		c.Prefetch = 8 * c.Concurrency
		if c.MaxAckPending > 0 && c.Prefetch > c.MaxAckPending {
			c.Prefetch = c.MaxAckPending
		}
	}
}

func (c *ConsumerConfig) validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("no stream"))
	}
	if c.Durable == "" {
		errs = append(errs, errors.New("no durable name"))
	}
	for i := 0; i < len(c.Durable); i++ {
		ch := c.Durable[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			errs = append(errs, fmt.Errorf("durable %q: want [A-Za-z0-9_-]+", c.Durable))
			break
		}
	}
	if c.AckWait < 0 {
		errs = append(errs, fmt.Errorf("ack wait %s: negative", c.AckWait))
	}
	if c.MaxDeliver < -1 {
		errs = append(errs, fmt.Errorf("max deliver %d: want -1 or > 0", c.MaxDeliver))
	}
	for _, d := range c.Backoff {
		if d < 0 {
			errs = append(errs, fmt.Errorf("backoff %s: negative", d))
		}
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: want >= 1", c.Concurrency))
	}
	if c.Prefetch < 1 {
		errs = append(errs, fmt.Errorf("prefetch %d: want >= 1", c.Prefetch))
	}
	return errors.Join(errs...)
}

func (c *ConsumerConfig) jetstream() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        c.Durable,
		FilterSubjects: c.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     c.MaxDeliver,
		MaxAckPending:  c.MaxAckPending,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
}

// backoff is the Nak delay after the numDelivered-th delivery failed.
func (c *ConsumerConfig) backoff(numDelivered uint64) time.Duration {
	if len(c.Backoff) == 0 {
		return 0
	}
	i := int(numDelivered) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(c.Backoff) {
		i = len(c.Backoff) - 1
	}
	return c.Backoff[i]
}

// Handler processes one message. Return nil to acknowledge it, Permanent(err)
// to terminate it (it is never redelivered), any other error to have it
// redelivered after the configured backoff. Its context expires after
// AckWait and is not cancelled when Consume's context is, so a handler that
// has started finishes during shutdown.
type Handler func(ctx context.Context, m Message) error

// Message is one delivery of a stream message.
type Message struct {
	Subject      string
	Data         []byte
	Header       nats.Header
	NumDelivered uint64    // 1 on first delivery
	StreamSeq    uint64    // position in the stream, stable across redeliveries
	Timestamp    time.Time // when the stream stored it
}

// Permanent marks err as not worth retrying: a handler returning it has its
// message terminated (poison) and logged. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, came from Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Consume creates or updates the durable consumer c and runs h on its
// messages, at most c.Concurrency at a time, until ctx is done. Then it
// drains: it stops pulling, gives back (Nak) messages fetched but not yet
// started, waits for running handlers and acknowledges their messages, and
// returns nil. A message is thus either acknowledged after h returned nil or
// left for redelivery; none is lost. If the server deletes the consumer,
// Consume recreates it; it returns an error when the consumer cannot be
// created or the connection is closed.
func (b *Bus) Consume(ctx context.Context, c ConsumerConfig, h Handler) error {
	c.setDefaults()
	if err := c.validate(); err != nil {
		return fmt.Errorf("consumer %s/%s: %w", c.Stream, c.Durable, err)
	}
	log := b.log.With(zap.String("stream", c.Stream), zap.String("consumer", c.Durable))
	defer b.lag.track(b, c.Stream, c.Durable)()
	cons, err := b.js.CreateOrUpdateConsumer(ctx, c.Stream, c.jetstream())
	if err != nil {
		if ctx.Err() != nil {
			return nil // shut down before the first message
		}
		return fmt.Errorf("consumer %s/%s: %w", c.Stream, c.Durable, err)
	}

	g, forget := b.newGate(&c)
	defer forget()
	b.metrics.deadLetteredInit(c.Stream)
	work := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	if c.Key == nil {
		for range c.Concurrency {
			wg.Go(func() {
				for m := range work {
					b.handle(ctx, &c, g, log, h, m)
				}
			})
		}
	} else {
		wg.Go(func() { b.lanes(ctx, &c, g, log, h, work) })
	}
	err = b.pull(ctx, &c, g, log, cons, work)
	close(work)
	wg.Wait()
	return err
}

// laneDepth is how many messages wait in a lane behind the one handled.
const laneDepth = 2

// lanes hands each message of work to the lane of its key, one handler per
// lane, until work is closed. A message still waiting in its lane at
// shutdown is given back.
func (b *Bus) lanes(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, h Handler, work <-chan jetstream.Msg) {
	lanes := make([]chan jetstream.Msg, c.Concurrency)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan jetstream.Msg, laneDepth)
		wg.Go(func() {
			for m := range lanes[i] {
				if ctx.Err() != nil {
					b.giveBack(c, log, m)
					continue
				}
				b.handle(ctx, c, g, log, h, m)
			}
		})
	}
	for m := range work {
		lanes[laneOf(c.Key(m.Subject(), m.Headers()), len(lanes))] <- m
	}
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
}

// laneOf is key's lane among n: FNV-1a, modulo n.
func laneOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// SubjectKey keys a message by its subject: for posts, snapshots and
// probes, whose subjects end in the platform and the account, one lane per
// account.
func SubjectKey(subject string, _ nats.Header) string { return subject }

// AlertKey is the fingerprint an alert message's Nats-Msg-Id starts with
// (AlertMsgID, PostedMsgID, a replayed dead letter's), else its subject:
// ConsumerConfig.Key for consumers of alerts that keep each alert's order.
func AlertKey(subject string, h nats.Header) string {
	if fp, _, ok := strings.Cut(h.Get(jetstream.MsgIDHeader), "@"); ok && fp != "" {
		return fp
	}
	return subject
}

// pull feeds work from the consumer until ctx is done or the connection
// closes.
//
// While the gate is paused it fetches nothing: the pull in progress is
// drained and what it had fetched is held, in progress, until the resume.
func (b *Bus) pull(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, cons jetstream.Consumer, work chan<- jetstream.Msg) error {
	var held []jetstream.Msg
	defer func() {
		for _, m := range held {
			b.giveBack(c, log, m)
		}
	}()
	for {
		var ok bool
		if held, ok = b.feedHeld(ctx, c, g, log, work, held); !ok {
			return nil
		}
		// Short pull expiry: a pull request lost on the way (reconnect,
		// leader change) costs at most a few seconds of idling, not 30.
		it, err := cons.Messages(jetstream.PullMaxMessages(c.Prefetch), jetstream.PullExpiry(pullExpiry))
		if err != nil {
			return fmt.Errorf("consume %s/%s: %w", c.Stream, c.Durable, err)
		}
		stop := context.AfterFunc(ctx, it.Drain)
		var pausedPull atomic.Bool
		unwatch := g.pullWhileOpen(func() { pausedPull.Store(true); it.Drain() })
		var nextErr error
		for {
			m, err := it.Next()
			if err != nil {
				nextErr = err
				break
			}
			if ctx.Err() != nil {
				b.giveBack(c, log, m)
				continue
			}
			paused, changed := g.watch()
			if paused {
				held = append(held, m)
				continue
			}
			select {
			case work <- m:
			case <-changed:
				held = append(held, m)
			case <-ctx.Done():
				b.giveBack(c, log, m)
			}
		}
		unwatch()
		stop()
		it.Stop()
		if ctx.Err() != nil {
			return nil
		}
		if pausedPull.Load() {
			continue // feedHeld waits for the resume
		}
		if b.nc.IsClosed() {
			return fmt.Errorf("consume %s/%s: %w", c.Stream, c.Durable, nats.ErrConnectionClosed)
		}
		// The iterator ended on its own: the consumer was deleted or the
		// server refused the pull. Recreate the consumer and go on.
		log.Warn("consumer interrupted, recreating", zap.Error(nextErr))
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			cons, err = b.js.CreateOrUpdateConsumer(ctx, c.Stream, c.jetstream())
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("recreate consumer", zap.Error(err))
		}
	}
}

// giveBack returns a fetched message that no handler will run during
// shutdown, so another process gets it now rather than after AckWait.
func (b *Bus) giveBack(c *ConsumerConfig, log *zap.Logger, m jetstream.Msg) {
	if err := m.Nak(); err != nil {
		log.Debug("nak on shutdown", zap.String("subject", m.Subject()), zap.Error(err))
	}
	b.metrics.handledInc(c.Stream, "nak")
}

func (b *Bus) handle(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, h Handler, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		// Not a JetStream delivery; nothing to retry.
		log.Error("message without jetstream metadata", zap.String("subject", m.Subject()), zap.Error(err))
		_ = m.Term()
		b.metrics.handledInc(c.Stream, "term")
		return
	}
	msg := Message{
		Subject:      m.Subject(),
		Data:         m.Data(),
		Header:       m.Headers(),
		NumDelivered: md.NumDelivered,
		StreamSeq:    md.Sequence.Stream,
		Timestamp:    md.Timestamp,
	}
	run := func() error {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.AckWait)
		defer cancel()
		return call(hctx, h, msg)
	}
	herr := run()
	if IsUnavailable(herr) {
		var shutdown bool
		if herr, shutdown = b.hold(ctx, c, g, log, m, herr, run); shutdown {
			b.giveBack(c, log, m)
			return
		}
	}
	fields := func(extra ...zap.Field) []zap.Field {
		return append([]zap.Field{zap.String("subject", msg.Subject), zap.Uint64("stream_seq", msg.StreamSeq),
			zap.Uint64("num_delivered", msg.NumDelivered)}, extra...)
	}
	last := c.MaxDeliver > 0 && msg.NumDelivered >= uint64(c.MaxDeliver)

	switch {
	case herr == nil:
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer acancel()
		if err := m.DoubleAck(actx); err != nil {
			// The message will come back after AckWait; handlers are idempotent.
			log.Warn("ack", fields(zap.Error(err))...)
			b.metrics.handledInc(c.Stream, "nak")
			return
		}
		b.metrics.handledInc(c.Stream, "ack")
	case IsPermanent(herr) || last:
		reason := ReasonPoison
		if !IsPermanent(herr) {
			reason = ReasonMaxDeliveries
		}
		if !b.deadLetter(ctx, c, g, log, m, msg, herr, reason) {
			b.giveBack(c, log, m) // shutting down with NATS away: left for redelivery
			return
		}
		if err := m.TermWithReason(truncate(herr.Error(), 200)); err != nil {
			log.Warn("term", fields(zap.Error(err))...)
		}
		log.Error("message dead-lettered", fields(zap.Error(herr), zap.String("reason", reason))...)
		b.metrics.handledInc(c.Stream, "term")
	default:
		delay := c.backoff(msg.NumDelivered)
		if err := m.NakWithDelay(delay); err != nil {
			log.Warn("nak", fields(zap.Error(err))...)
		}
		log.Warn("message failed, will retry", fields(zap.Error(herr), zap.Duration("delay", delay))...)
		b.metrics.handledInc(c.Stream, "nak")
	}
}

// call runs h, turning a panic into a plain error so the message is retried
// and the process survives.
func call(ctx context.Context, h Handler, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, m)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// DefaultProbeInterval is how often a paused consumer checks whether its
// dependencies answer again, when ConsumerConfig.ProbeInterval is zero.
const DefaultProbeInterval = 5 * time.Second

// SetDependencyCheck installs the check a paused consumer runs, besides the
// bus's own connection, before it retries the message it holds: typically a
// store read, so a consumer paused by a Redis outage resumes when Redis
// answers. Call it before Consume; nil removes it.
func (b *Bus) SetDependencyCheck(check func(ctx context.Context) error) {
	b.pauses.mu.Lock()
	b.pauses.check = check
	b.pauses.mu.Unlock()
}

// pauses is what the bus knows about its paused consumers, for Ready.
type pauses struct {
	mu    sync.Mutex
	check func(ctx context.Context) error
	gates map[*gate]struct{}
}

// dependencies checks the connection and the installed dependency check,
// each within two seconds.
func (b *Bus) dependencies(ctx context.Context) error {
	if err := b.connected(); err != nil {
		return err
	}
	b.pauses.mu.Lock()
	check := b.pauses.check
	b.pauses.mu.Unlock()
	if check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return check(ctx)
}

// paused returns an error naming every consumer of this bus that is paused,
// nil when none is.
func (b *Bus) paused() error {
	b.pauses.mu.Lock()
	defer b.pauses.mu.Unlock()
	var msgs []string
	for g := range b.pauses.gates {
		if held, cause := g.state(); held {
			msgs = append(msgs, fmt.Sprintf("consumer %s/%s paused: %v", g.stream, g.durable, cause))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	slices.Sort(msgs)
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = errors.New(m)
	}
	return errors.Join(errs...)
}

// gate pauses one Consume: while any of its handlers holds a message whose
// dependency is down, the consumer fetches nothing and keeps what it had
// fetched, so no message spends deliveries on an outage.
type gate struct {
	b               *Bus
	stream, durable string
	mu              sync.Mutex
	holders         int
	cause           error
	changed         chan struct{} // closed and replaced on every pause and resume
	onPause         func()        // stops the current pull, when set
}

func (b *Bus) newGate(c *ConsumerConfig) (*gate, func()) {
	g := &gate{b: b, stream: c.Stream, durable: c.Durable, changed: make(chan struct{})}
	b.metrics.pausedSet(c.Stream, c.Durable, false)
	b.pauses.mu.Lock()
	if b.pauses.gates == nil {
		b.pauses.gates = map[*gate]struct{}{}
	}
	b.pauses.gates[g] = struct{}{}
	b.pauses.mu.Unlock()
	return g, func() {
		b.pauses.mu.Lock()
		delete(b.pauses.gates, g)
		b.pauses.mu.Unlock()
	}
}

// state reports whether the consumer is paused and why.
func (g *gate) state() (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holders > 0, g.cause
}

// watch returns whether the consumer is paused and a channel closed at the
// next pause or resume.
func (g *gate) watch() (bool, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.holders > 0, g.changed
}

// pullWhileOpen registers stop, called when a pause begins (at once when
// the consumer is paused already); the returned func unregisters it.
func (g *gate) pullWhileOpen(stop func()) func() {
	g.mu.Lock()
	paused := g.holders > 0
	if !paused {
		g.onPause = stop
	}
	g.mu.Unlock()
	if paused {
		stop()
	}
	return func() {
		g.mu.Lock()
		g.onPause = nil
		g.mu.Unlock()
	}
}

func (g *gate) enter(cause error) {
	g.mu.Lock()
	g.holders++
	g.cause = cause
	first := g.holders == 1
	var stop func()
	if first {
		close(g.changed)
		g.changed = make(chan struct{})
		stop, g.onPause = g.onPause, nil
	}
	g.mu.Unlock()
	if first {
		g.b.metrics.pausedSet(g.stream, g.durable, true)
	}
	if stop != nil {
		stop()
	}
}

func (g *gate) setCause(cause error) {
	g.mu.Lock()
	g.cause = cause
	g.mu.Unlock()
}

func (g *gate) leave() {
	g.mu.Lock()
	g.holders--
	last := g.holders == 0
	if last {
		g.cause = nil
		close(g.changed)
		g.changed = make(chan struct{})
	}
	g.mu.Unlock()
	if last {
		g.b.metrics.pausedSet(g.stream, g.durable, false)
	}
}

// heartbeat is how often a held message is reported in progress, well
// inside its ack wait.
func heartbeat(ackWait time.Duration) time.Duration {
	return max(ackWait/3, time.Millisecond)
}

// hold keeps m while a dependency is down: the consumer pauses, m is
// reported in progress so the server neither redelivers it nor counts a
// delivery, and every ProbeInterval the dependencies are checked; once they
// answer, retry runs. hold returns retry's result, or the error of the last
// failed check with shutdown true when ctx ended first. When the checks pass
// but retry still fails as unavailable, that error is returned: the
// dependency the message needs is not one the consumer can watch, and the
// message takes the ordinary retry path.
func (b *Bus) hold(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, m jetstream.Msg, cause error, retry func() error) (err error, shutdown bool) {
	g.enter(cause)
	defer g.leave()
	log.Warn("dependency unavailable, consumer paused; holding the message", zap.String("subject", m.Subject()), zap.Error(cause))
	hb := time.NewTicker(heartbeat(c.AckWait))
	defer hb.Stop()
	probe := time.NewTicker(c.ProbeInterval)
	defer probe.Stop()
	for {
		select {
		case <-ctx.Done():
			return cause, true
		case <-hb.C:
			if err := m.InProgress(); err != nil {
				log.Debug("in progress", zap.String("subject", m.Subject()), zap.Error(err))
			}
		case <-probe.C:
			if err := b.dependencies(ctx); err != nil {
				cause = err
				g.setCause(err)
				continue
			}
			if err := m.InProgress(); err != nil {
				// NATS itself may be what is down; the check said no.
				cause = err
				continue
			}
			log.Info("dependency answers again, retrying the held message", zap.String("subject", m.Subject()))
			return retry(), false
		}
	}
}

// feedHeld hands the messages fetched during a pause to the handlers once
// the consumer resumes, reporting them in progress meanwhile, and returns
// when none is left and the consumer is not paused, or with ok false when
// ctx ended; the messages not handed on are returned.
func (b *Bus) feedHeld(ctx context.Context, c *ConsumerConfig, g *gate, log *zap.Logger, work chan<- jetstream.Msg, held []jetstream.Msg) (rest []jetstream.Msg, ok bool) {
	var hb *time.Ticker
	for {
		paused, changed := g.watch()
		if !paused && len(held) == 0 {
			if hb != nil {
				hb.Stop()
			}
			return nil, true
		}
		if hb == nil {
			hb = time.NewTicker(heartbeat(c.AckWait))
			defer hb.Stop()
		}
		var send chan<- jetstream.Msg
		var next jetstream.Msg
		if !paused {
			send, next = work, held[0]
		}
		select {
		case <-ctx.Done():
			return held, false
		case send <- next:
			held = held[1:]
		case <-changed:
		case <-hb.C:
			for _, m := range held {
				if err := m.InProgress(); err != nil {
					log.Debug("in progress", zap.String("subject", m.Subject()), zap.Error(err))
				}
			}
		}
	}
}

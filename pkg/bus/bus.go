// Package bus is govwatch's JetStream layer: the four streams (posts,
// snapshots, probes, alerts), their subjects, publishing with de-duplication
// and durable pull consumers that several replicas share. It can start an
// in-process nats-server for the single-binary deployment.
//
// Lifecycle: Open starts the embedded server if asked, connects (reconnecting
// forever afterwards) and ensures the streams; Publish* and Consume are safe
// for concurrent use; cancel every Consume context, then Close, which drains
// the connection and shuts the embedded server down.
package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Defaults applied by Open for zero Options fields.
const (
	DefaultMaxAge          = 7 * 24 * time.Hour
	DefaultDuplicateWindow = time.Hour
)

// Options configure Open. The zero value is not usable: set URLs or Embedded.
type Options struct {
	// URLs of external NATS servers. Must be empty when Embedded is true.
	URLs []string
	// Embedded starts an in-process nats-server with JetStream file storage.
	Embedded bool
	// StoreDir is the embedded server's JetStream storage directory.
	StoreDir string
	// Listen is the embedded server's client address: "" serves in-process
	// connections only; "127.0.0.1:0" picks a free port (see ClientURL).
	Listen string
	// Prefix is the first subject token, default "govwatch"; [a-z0-9_-]+.
	Prefix string
	// CredentialsFile is a .creds file (JWT and seed) for external servers.
	CredentialsFile string
	// NKeyFile is an nkey seed file for external servers.
	NKeyFile string
	// TLS, when set, is used for the connection.
	TLS *tls.Config
	// Replicas per stream: 1 embedded, typically 3 in a cluster. Default 1.
	Replicas int
	// MaxAge is each stream's retention, default 7 days.
	MaxAge time.Duration
	// MaxBytes caps each stream's size: past it the oldest messages go,
	// so that a server's full file store does not refuse every publish.
	// Zero: bounded by MaxAge only.
	MaxBytes int64
	// DuplicateWindow is how long a Nats-Msg-Id is remembered, default 1h.
	DuplicateWindow time.Duration
	// Name is the connection name shown by the server, e.g. "collector".
	Name string
	// Logger receives connection events; nil means no logs.
	Logger *zap.Logger
	// Metrics, when set, receives govwatch_bus_published_total,
	// govwatch_bus_handled_total and the backlog of the consumers this bus
	// consumes (govwatch_bus_consumer_pending_messages, …_ack_pending_messages).
	Metrics prometheus.Registerer
}

// Bus is a connection to JetStream plus, optionally, the server it runs.
type Bus struct {
	opts    Options
	log     *zap.Logger
	ns      *server.Server // nil for external servers
	nc      *nats.Conn
	js      jetstream.JetStream
	metrics *metrics
	lag     *lagCollector // nil without Options.Metrics
	pauses  pauses
	closed  chan struct{} // closed by the connection's ClosedHandler

	closeOnce sync.Once
	closeErr  error
}

func (o *Options) setDefaults() {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

func (o *Options) validate() error {
	var errs []error
	if err := ValidToken(o.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("prefix: %w", err))
	}
	switch {
	case o.Embedded && len(o.URLs) > 0:
		errs = append(errs, errors.New("embedded and urls are exclusive"))
	case !o.Embedded && len(o.URLs) == 0:
		errs = append(errs, errors.New("no urls and not embedded"))
	}
	if o.Embedded && o.StoreDir == "" {
		errs = append(errs, errors.New("embedded server needs a store dir"))
	}
	if o.Embedded && o.Replicas != 1 {
		errs = append(errs, fmt.Errorf("embedded server holds 1 replica, not %d", o.Replicas))
	}
	if o.Replicas < 1 || o.Replicas > 5 {
		errs = append(errs, fmt.Errorf("stream replicas %d: want 1..5", o.Replicas))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("max bytes %d: must not be negative", o.MaxBytes))
	}
	if o.MaxAge < 0 || o.DuplicateWindow < 0 {
		errs = append(errs, errors.New("negative max age or duplicate window"))
	}
	if o.DuplicateWindow > o.MaxAge {
		errs = append(errs, fmt.Errorf("duplicate window %s longer than max age %s", o.DuplicateWindow, o.MaxAge))
	}
	return errors.Join(errs...)
}

// Open starts the embedded server if o.Embedded, connects and ensures the
// streams. It waits for the first connection until ctx is done, so daemons
// may start before their NATS cluster; after that the connection reconnects
// forever, logging each disconnect and reconnect.
func Open(ctx context.Context, o Options) (*Bus, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("nats options: %w", err)
	}
	b := &Bus{opts: o, log: o.Logger, closed: make(chan struct{})}
	m, err := newMetrics(o.Metrics)
	if err != nil {
		return nil, err
	}
	b.metrics = m
	if b.lag, err = newLag(o.Metrics); err != nil {
		return nil, err
	}

	if o.Embedded {
		ns, err := startEmbedded(ctx, o)
		if err != nil {
			return nil, err
		}
		b.ns = ns
	}
	if err := b.connect(ctx); err != nil {
		b.shutdownServer()
		return nil, err
	}
	if err := b.EnsureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bus) connect(ctx context.Context) error {
	o := b.opts
	log := b.log
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			fields := []zap.Field{zap.Error(err)}
			if sub != nil {
				fields = append(fields, zap.String("subject", sub.Subject))
			}
			log.Error("nats async error", fields...)
		}),
		nats.LameDuckModeHandler(func(nc *nats.Conn) {
			log.Info("nats server entering lame duck mode", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
	}
	if o.CredentialsFile != "" {
		nopts = append(nopts, nats.UserCredentials(o.CredentialsFile))
	}
	if o.NKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			return fmt.Errorf("nkey file: %w", err)
		}
		nopts = append(nopts, opt)
	}
	if o.TLS != nil {
		nopts = append(nopts, nats.Secure(o.TLS))
	}
	url := strings.Join(o.URLs, ",")
	if b.ns != nil {
		url = ""
		nopts = append(nopts, nats.InProcessServer(b.ns))
	}

	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return fmt.Errorf("connect nats: %w", err)
	}
	// With RetryOnFailedConnect, Connect returns before the first connection;
	// wait for it so Open reports an unreachable cluster by ctx's deadline.
	status := nc.StatusChanged(nats.CONNECTED)
	if !nc.IsConnected() {
		select {
		case <-status:
		case <-ctx.Done():
			nc.RemoveStatusListener(status)
			last := nc.LastError()
			nc.Close()
			if last != nil {
				return fmt.Errorf("connect nats %s: %w (last error: %v)", redactURLs(o.URLs), ctx.Err(), last)
			}
			return fmt.Errorf("connect nats %s: %w", redactURLs(o.URLs), ctx.Err())
		}
	}
	nc.RemoveStatusListener(status)
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	b.nc, b.js = nc, js
	// An in-process connection reports the server's default client URL,
	// which nothing listens on unless Listen opened one.
	connected := nc.ConnectedUrlRedacted()
	if b.ns != nil {
		connected = "in-process"
		if o.Listen != "" {
			connected += ", clients on " + b.ns.ClientURL()
		}
	}
	log.Info("nats connected", zap.String("url", connected), zap.String("name", o.Name), zap.Bool("embedded", b.ns != nil))
	return nil
}

// redactURLs drops user info from server URLs for error messages.
func redactURLs(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			scheme := ""
			if i := strings.Index(u, "://"); i >= 0 && i < at {
				scheme = u[:i+3]
			}
			u = scheme + "***" + u[at:]
		}
		out[i] = u
	}
	return strings.Join(out, ",")
}

// Conn is the underlying NATS connection, for request/reply or KV users.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream context the bus uses.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Prefix is the subject prefix in use.
func (b *Bus) Prefix() string { return b.opts.Prefix }

// Stream is the name of the stream holding kind k under this bus's prefix.
func (b *Bus) Stream(k Kind) string { return StreamName(b.opts.Prefix, k) }

// ClientURL is the embedded server's client URL when it listens on an
// address, for other processes; "" otherwise.
func (b *Bus) ClientURL() string {
	if b.ns == nil || b.opts.Listen == "" {
		return ""
	}
	return b.ns.ClientURL()
}

// Ready reports whether the bus can serve: connected, JetStream answers
// an account info request within two seconds, and no consumer is paused
// because a dependency of its handler is down. For /readyz.
func (b *Bus) Ready() error {
	if err := b.connected(); err != nil {
		return err
	}
	return b.paused()
}

// connected is Ready without the paused consumers.
func (b *Bus) connected() error {
	if !b.nc.IsConnected() {
		return fmt.Errorf("nats %s", strings.ToLower(b.nc.Status().String()))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return nil
}

// Close drains the connection (pending publishes are flushed, subscriptions
// finish) and shuts the embedded server down, waiting for it. Cancel Consume
// contexts first so handlers finish cleanly. Close is idempotent.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.closeErr = fmt.Errorf("drain nats: %w", err)
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(nats.DefaultDrainTimeout + 5*time.Second):
			b.nc.Close()
		}
		b.shutdownServer()
	})
	return b.closeErr
}

func (b *Bus) shutdownServer() {
	if b.ns == nil {
		return
	}
	b.ns.Shutdown()
	b.ns.WaitForShutdown()
	b.log.Info("embedded nats server stopped")
}

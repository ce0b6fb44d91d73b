// Package notify runs the notifier: it takes alerts from the bus (and from
// Alertmanager's API), keeps each alert's lifecycle in the store, routes it
// to receivers and delivers it through their channels, writing a
// notification log so that no replica and no restart pages twice.
//
// An alert passes a pipeline of small stages, each a type with one job in
// a file named after it, assembled in one place (pipeline.go):
//
//	lifecycle (dedup by fingerprint, firing → acknowledged → resolved, incidents;
//	           a new incident is routed and its escalation started in the same write)
//	→ silence → inhibit
//	→ unrouted (an incident that paged nobody raises system.unrouted)
//	→ per routed receiver: group | notification log claim → send with retry
//	  → fallback → record (log and timeline)
//
// One goroutine, started by Run and joined before Run returns, ticks
// (tick.go): it resolves alerts whose endsAt passed (resolve_timeout of API
// alerts), pages the escalation steps that are due (escalation.go) and
// flushes the groups that are due (group.go), on state kept in the store, so
// that no timer lives only in memory.
//
// The HTTP API (api.go) is a type of its own over the narrow State the
// Notifier offers it.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/report"
	"github.com/govwatch/govwatch/pkg/store"
)

// Bus is what the notifier needs of the message bus.
type Bus interface {
	Consume(ctx context.Context, c bus.ConsumerConfig, h bus.Handler) error
	PublishAlert(ctx context.Context, a *model.Alert) (bool, error)
	Stream(k bus.Kind) string
	Prefix() string
}

// Receiver is a named destination made of one or more channels.
type Receiver struct {
	Name     string
	Channels []channel.Channel
	// Fallback names the receiver that takes a notification once this one
	// has failed FallbackAfter times in a row (retries used up each time).
	Fallback      string
	FallbackAfter int
	// BreakerAfter is the run of failures in a row that opens the
	// receiver's breaker: its sends are then not tried, but for one probe
	// every Options.BreakerProbe; 0: it never opens.
	BreakerAfter int
}

// Options build a Notifier. New fills in nothing: every setting marked
// required must be given (pkg/config's Default holds the defaults), the
// others say what leaving them out means.
type Options struct {
	Store     store.Store // required
	Receivers []Receiver
	Route     *Route          // required; its receivers must be among Receivers
	Clock     clockwork.Clock // required
	Log       *zap.Logger     // required
	// ResolveTimeout ends an alert posted on the API without endsAt;
	// required, positive.
	ResolveTimeout time.Duration
	Retry          RetryPolicy // required: every field positive
	// Tick is how often the loop expires, escalates and flushes; required, positive.
	Tick time.Duration
	// OwedFor is how long a notification that keeps failing is delivered
	// again on every tick before it is given up on; required, positive.
	OwedFor time.Duration
	// BreakerProbe is how often a receiver whose breaker is open is tried
	// for real; required, positive.
	BreakerProbe time.Duration
	// Report renders upstream reports; required.
	Report *report.Upstream

	// Bus, Consumer (the durable name) and Workers (at least 1) are
	// required by Run only: a notifier fed by Handle needs no bus.
	Bus      Bus
	Consumer string
	Workers  int

	ExternalURL string
	// Metrics registers the notifier's metrics; nil registers none.
	Metrics prometheus.Registerer
	// Directory finds duty officers (roster) and heads and superior units
	// (registry) for escalation; nil pages nobody in particular.
	Directory *escalate.Directory
	// Policies are the escalation policies; the first matching applies.
	Policies []escalate.Policy
	// Inhibit are the inhibition rules.
	Inhibit []inhibit.Rule
	// Signer signs the one-click ack and resolve links; nil puts none in
	// messages. With a Signer, LinkTTL (how long links stay valid) is
	// required.
	Signer  *ack.Signer
	LinkTTL time.Duration
	// UnroutedTexts replace templates of the system.unrouted alert
	// (summary, description, suggestion, resolved; text/template, Chinese)
	// by name; nil keeps the built-in wording.
	UnroutedTexts map[string]string
}

// RetryPolicy is the send stage's: attempts within one handling of an
// alert, with exponential backoff; when they are used up the alert message is
// redelivered by the bus later.
type RetryPolicy struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
}

// ClaimTTL is how long a replica owns the sending of one notification
// before another may take over, should it have died mid-send.
const ClaimTTL = 2 * time.Minute

// replicaLease is how long a replica's liveness entry lasts unrenewed:
// three ticks, so one slow tick does not make a live replica look dead.
func replicaLease(tick time.Duration) time.Duration { return 3 * tick }

// replicaID names this replica in the claims it holds: random, so a
// restarted process is a new replica and its old claims can be resumed.
func replicaID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// nflogTTL is how long the notification log remembers a sent notification.
const nflogTTL = 90 * 24 * time.Hour

// Notifier routes and delivers alerts. It holds the stages; pipeline
// assembles them.
type Notifier struct {
	bus      Bus
	consumer string
	workers  int
	clock    clockwork.Clock
	log      *zap.Logger
	m        *metrics

	records   *lifecycle
	router    *router
	inhibitor *inhibitor
	silencer  *silencer
	unrouter  *unrouter
	allows    *allow.Entries
	grouper   *grouper
	claims    *claims
	sender    *sender
	fallback  *fallback
	recorder  *recordStage
	owed      *owedLog
	escalator *escalator
	reporter  *reporter
	ticker    *ticker

	pipe stage
}

// New checks the options and returns a Notifier. It reports every missing
// or inconsistent setting at once.
func New(o Options) (*Notifier, error) {
	if err := checkOptions(&o); err != nil {
		return nil, err
	}
	receivers, err := receiversOf(o.Receivers)
	if err != nil {
		return nil, err
	}
	if err := checkRoute(o.Route, receivers); err != nil {
		return nil, err
	}
	policies, err := policiesOf(o.Policies, receivers)
	if err != nil {
		return nil, err
	}
	texts, err := unroutedTexts(o.UnroutedTexts)
	if err != nil {
		return nil, err
	}
	return assemble(o, receivers, policies, texts), nil
}

// checkOptions reports the required settings o lacks.
func checkOptions(o *Options) error {
	var errs []error
	missing := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	missing(o.Store != nil, "no store")
	missing(o.Route != nil, "no route")
	missing(o.Clock != nil, "no clock")
	missing(o.Log != nil, "no logger")
	missing(o.Report != nil, "no upstream report template")
	missing(o.ResolveTimeout > 0, "resolve timeout must be positive, not %s", o.ResolveTimeout)
	missing(o.Tick > 0, "tick must be positive, not %s", o.Tick)
	missing(o.OwedFor > 0, "owed-for must be positive, not %s", o.OwedFor)
	missing(o.BreakerProbe > 0, "breaker probe interval must be positive, not %s", o.BreakerProbe)
	missing(o.Retry.Attempts > 0, "retry attempts must be positive, not %d", o.Retry.Attempts)
	missing(o.Retry.Initial > 0, "retry initial backoff must be positive, not %s", o.Retry.Initial)
	missing(o.Retry.Max >= o.Retry.Initial, "retry maximum backoff %s is below the initial %s", o.Retry.Max, o.Retry.Initial)
	missing(o.Signer == nil || o.LinkTTL > 0, "link TTL must be positive with a link signer, not %s", o.LinkTTL)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("notifier options: %w", err)
	}
	return nil
}

// receiversOf indexes the receivers by name, checking their fallbacks.
func receiversOf(rs []Receiver) (map[string]Receiver, error) {
	out := map[string]Receiver{}
	for _, r := range rs {
		out[r.Name] = r
	}
	for _, r := range rs {
		if _, ok := out[r.Fallback]; r.Fallback != "" && (!ok || r.Fallback == r.Name) {
			return nil, fmt.Errorf("receiver %s: bad fallback receiver %q", r.Name, r.Fallback)
		}
	}
	return out, nil
}

// checkRoute reports receivers the routing tree names but nobody defined.
func checkRoute(root *Route, receivers map[string]Receiver) error {
	var unknown []string
	var check func(r *Route)
	check = func(r *Route) {
		if _, ok := receivers[r.Receiver]; r.Receiver != "" && !ok {
			unknown = append(unknown, r.Receiver)
		}
		for _, c := range r.Routes {
			check(c)
		}
	}
	check(root)
	if len(unknown) > 0 {
		return fmt.Errorf("route names unknown receivers %v", unknown)
	}
	return nil
}

// policiesOf validates the escalation policies and indexes them by name.
func policiesOf(ps []escalate.Policy, receivers map[string]Receiver) (map[string]*escalate.Policy, error) {
	out := map[string]*escalate.Policy{}
	for i := range ps {
		p := &ps[i]
		if err := p.Validate(func(name string) bool { _, ok := receivers[name]; return ok }); err != nil {
			return nil, err
		}
		out[p.Name] = p
	}
	return out, nil
}

// assemble builds the stages from checked options and wires them together.
func assemble(o Options, receivers map[string]Receiver, policies map[string]*escalate.Policy, unrouted *alerttext.Texts) *Notifier {
	dir := o.Directory
	if dir == nil {
		dir = &escalate.Directory{} // pages nobody in particular
	}
	n := &Notifier{bus: o.Bus, consumer: o.Consumer, workers: o.Workers, clock: o.Clock, log: o.Log}
	n.m = newMetrics(o.Metrics, n.Alerts)
	n.m.zero(receivers)
	n.reporter = &reporter{tmpl: o.Report, dir: dir, log: o.Log}
	notes := &composer{externalURL: o.ExternalURL, signer: o.Signer, linkTTL: o.LinkTTL, clock: o.Clock, reporter: n.reporter}
	n.router = &router{route: o.Route, receivers: receivers}
	n.escalator = &escalator{policies: o.Policies, byName: policies, dir: dir, clock: o.Clock, log: o.Log, m: n.m}
	n.records = newLifecycle(o.Store, o.Clock, o.Log, n.m, o.ResolveTimeout, n.router.assign, n.escalator.start)
	n.records.sources = &sourceIndex{store: o.Store, rules: o.Inhibit}
	n.inhibitor = &inhibitor{rules: o.Inhibit, records: n.records, sources: n.records.sources, m: n.m}
	n.silencer = &silencer{silences: silence.New(o.Store, o.Clock), clock: o.Clock, m: n.m}
	n.allows = allow.New(o.Store)
	failures := &failureRuns{store: o.Store, clock: o.Clock}
	brk := &breaker{failures: failures, store: o.Store, probe: o.BreakerProbe, m: n.m}
	n.sender = &sender{retry: o.Retry, clock: o.Clock, failures: failures, breaker: brk, notes: notes, m: n.m}
	n.fallback = &fallback{receivers: receivers, failures: failures, sender: n.sender, log: o.Log}
	n.claims = &claims{store: o.Store, replica: replicaID(), lease: replicaLease(o.Tick)}
	n.owed = &owedLog{store: o.Store, clock: o.Clock, keep: o.OwedFor, log: o.Log, m: n.m}
	n.recorder = &recordStage{claims: n.claims, records: n.records, owed: n.owed, log: o.Log}
	n.unrouter = &unrouter{claims: n.claims, texts: unrouted, reporter: n.reporter, clock: o.Clock, log: o.Log, m: n.m, handle: n.Handle}
	n.grouper = &grouper{store: o.Store, clock: o.Clock, log: o.Log, receivers: receivers, route: o.Route,
		records: n.records, inhibitor: n.inhibitor, silencer: n.silencer, sender: n.sender, notes: notes}
	n.escalator.records, n.escalator.claims, n.escalator.sender, n.escalator.notes = n.records, n.claims, n.sender, notes
	n.escalator.receivers, n.escalator.inhibitor, n.escalator.silencer = receivers, n.inhibitor, n.silencer
	n.ticker = &ticker{every: o.Tick, clock: o.Clock, log: o.Log, tick: n.Tick}
	n.pipe = n.pipeline()
	return n
}

// Run consumes alerts from the bus until ctx is done. It owns the tick
// loop: one goroutine, started here and stopped and joined before Run
// returns.
func (n *Notifier) Run(ctx context.Context) error {
	if n.bus == nil || n.consumer == "" || n.workers < 1 {
		return fmt.Errorf("notifier run: needs a bus, a consumer name and at least one worker")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { n.ticker.loop(ctx) })
	defer wg.Wait() // after cancel, which runs first
	return n.bus.Consume(ctx, bus.ConsumerConfig{
		Stream:         n.bus.Stream(bus.KindAlert),
		Durable:        n.consumer,
		FilterSubjects: []string{bus.StreamSubjects(n.bus.Prefix(), bus.KindAlert)},
		Concurrency:    n.workers,
		// Each alert's messages one after the other, in order (its
		// resolution after its firing); different alerts in parallel.
		Key: bus.AlertKey,
		// Delivery with retries may take a while; the claim in the
		// notification log, not AckWait, keeps replicas from doubling.
		AckWait: 2 * time.Minute,
	}, n.handleMsg)
}

func (n *Notifier) handleMsg(ctx context.Context, m bus.Message) error {
	var a model.Alert
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return bus.Permanent(fmt.Errorf("decode alert on %s: %w", m.Subject, err))
	}
	if a.Name() == "" {
		return bus.Permanent(fmt.Errorf("alert on %s has no alertname", m.Subject))
	}
	return n.Handle(ctx, &a)
}

// Handle runs one alert through the pipeline. It is safe to call again with
// the same alert: the lifecycle does not move twice and the notification
// log does not send twice.
func (n *Notifier) Handle(ctx context.Context, a *model.Alert) error {
	_, err := n.pipe.Exec(ctx, &delivery{alert: a})
	return err
}

// Post handles an alert posted on the API: as Alertmanager does, one
// without startsAt starts now, and one without endsAt ends after the
// resolve timeout unless it is posted again.
func (n *Notifier) Post(ctx context.Context, a *model.Alert) error {
	n.records.stamp(a)
	return n.Handle(ctx, a)
}

// redeliver runs a stored record through the pipeline again, past the
// lifecycle: whatever a silence, an inhibition or a failure held back goes
// out, owed the notifications of owed. Mutes are not counted again.
func (n *Notifier) redeliver(ctx context.Context, r *Record, pre *premuted, owed []owedEntry) error {
	d := &delivery{rec: r, owed: owed}
	if pre != nil {
		d.silences, d.inhibitor = pre.silences, pre.inhibitor
	}
	_, err := n.pipe.Exec(ctx, d)
	return err
}

// Acknowledge acknowledges the current incident of fp (incident 0: whatever
// is current), which stops its escalation. Acknowledging twice is not an
// error; acknowledging an incident that is over is.
func (n *Notifier) Acknowledge(ctx context.Context, fp string, incident int, by, note string) (*Record, error) {
	return n.records.acknowledge(ctx, fp, incident, Action{By: by, At: n.clock.Now(), Note: note})
}

// Resolve resolves the current incident of fp by hand, with a note of what
// was done, and tells its receivers.
func (n *Notifier) Resolve(ctx context.Context, fp string, incident int, by, note string) (*Record, error) {
	rec, err := n.records.resolve(ctx, fp, incident, Action{By: by, At: n.clock.Now(), Note: note})
	if err != nil {
		return rec, err
	}
	return rec, n.redeliver(ctx, rec, nil, nil)
}

// Record returns the record of fp.
func (n *Notifier) Record(ctx context.Context, fp string) (*Record, error) {
	return n.records.get(ctx, fp)
}

// Alerts returns the records in the store; with active set, only open ones.
// They are sorted by severity, then newest first.
func (n *Notifier) Alerts(ctx context.Context, active bool) ([]Record, error) {
	out, err := n.records.list(ctx, active)
	sortRecords(out)
	return out, err
}

// sortRecords sorts by severity, then newest first.
func sortRecords(out []Record) {
	sort.Slice(out, func(i, j int) bool {
		si, sj := model.SeverityRank(out[i].Alert.Labels[model.LabelSeverity]), model.SeverityRank(out[j].Alert.Labels[model.LabelSeverity])
		if si != sj {
			return si > sj
		}
		return out[i].Alert.StartsAt.After(out[j].Alert.StartsAt)
	})
}

// Report renders the upstream report of fp's current incident.
func (n *Notifier) Report(ctx context.Context, fp string) (string, error) {
	r, err := n.Record(ctx, fp)
	if err != nil {
		return "", err
	}
	return n.reporter.render(r, ""), nil
}

// UnitName is the registry's name of unit id, else fallback, else id.
func (n *Notifier) UnitName(id, fallback string) string { return n.reporter.unitName(id, fallback) }

// Silences are the silences in the store.
func (n *Notifier) Silences() *silence.Silences { return n.silencer.silences }

// Allows are the allow entries in the store, which the content detector
// reads.
func (n *Notifier) Allows() *allow.Entries { return n.allows }

// Mutes reads the silences once and takes active as the active alerts, and
// returns what mutes each record.
func (n *Notifier) Mutes(ctx context.Context, active []Record) (func(*Record) Mute, error) {
	pre, err := n.premute(ctx, active)
	if err != nil {
		return nil, err
	}
	return func(r *Record) Mute {
		return Mute{SilencedBy: pre.silences.Muting(r.Alert.Labels), InhibitedBy: inhibitedBy(pre.inhibitor, r)}
	}, nil
}

// Mute says why an alert pages nobody.
type Mute struct {
	SilencedBy  []string
	InhibitedBy []string
}

func statusOf(a *model.Alert, now time.Time) string {
	if a.Resolved(now) {
		return StatusResolved
	}
	return StatusFiring
}

func copyMap[M ~map[string]string](m M) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

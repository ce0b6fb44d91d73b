package bus

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lagTimeout bounds the JetStream requests one scrape makes.
const lagTimeout = 2 * time.Second

var (
	pendingDesc = prometheus.NewDesc(
		"govwatch_bus_consumer_pending_messages",
		"Messages in the stream not yet delivered to the durable consumer (its backlog), read from JetStream at scrape time.",
		[]string{"stream", "consumer"}, nil)
	ackPendingDesc = prometheus.NewDesc(
		"govwatch_bus_consumer_ack_pending_messages",
		"Messages delivered to the durable consumer and not yet acknowledged, read from JetStream at scrape time.",
		[]string{"stream", "consumer"}, nil)
)

type consumerKey struct{ stream, durable string }

// lagCollector reports the backlog of the durable consumers the processes on
// its registry consume. It asks JetStream at scrape time, so replicas sharing
// a consumer report the same number and nothing runs between scrapes. Several
// buses on one registry share one collector; each consumer is asked through
// the bus that consumes it.
type lagCollector struct {
	mu   sync.Mutex
	refs map[consumerKey]map[*Bus]int
}

// newLag registers a lag collector on reg, or joins the one already there.
// A nil reg gives a nil collector, which tracks nothing.
func newLag(reg prometheus.Registerer) (*lagCollector, error) {
	if reg == nil {
		return nil, nil
	}
	c, err := registerShared(reg, &lagCollector{refs: map[consumerKey]map[*Bus]int{}})
	if err != nil {
		return nil, fmt.Errorf("register bus lag metrics: %w", err)
	}
	return c, nil
}

// track counts b as consuming stream/durable until the returned func runs.
func (c *lagCollector) track(b *Bus, stream, durable string) (untrack func()) {
	if c == nil {
		return func() {}
	}
	k := consumerKey{stream, durable}
	c.mu.Lock()
	if c.refs[k] == nil {
		c.refs[k] = map[*Bus]int{}
	}
	c.refs[k][b]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.refs[k][b]--; c.refs[k][b] <= 0 {
			delete(c.refs[k], b)
		}
		if len(c.refs[k]) == 0 {
			delete(c.refs, k)
		}
	}
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- ackPendingDesc
}

// Collect asks JetStream for each tracked consumer's info. A consumer that
// does not answer within lagTimeout is left out of this scrape rather than
// failing the whole scrape; its series' absence is what alerts see.
func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	type job struct {
		k consumerKey
		b *Bus
	}
	c.mu.Lock()
	jobs := make([]job, 0, len(c.refs))
	for k, buses := range c.refs {
		for b := range buses {
			if !b.nc.IsClosed() {
				jobs = append(jobs, job{k, b})
				break
			}
		}
	}
	c.mu.Unlock()
	sort.Slice(jobs, func(i, j int) bool {
		if jobs[i].k.stream != jobs[j].k.stream {
			return jobs[i].k.stream < jobs[j].k.stream
		}
		return jobs[i].k.durable < jobs[j].k.durable
	})

	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	for _, j := range jobs {
		cons, err := j.b.js.Consumer(ctx, j.k.stream, j.k.durable)
		if err != nil {
			continue
		}
		info := cons.CachedInfo()
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(info.NumPending), j.k.stream, j.k.durable)
		ch <- prometheus.MustNewConstMetric(ackPendingDesc, prometheus.GaugeValue, float64(info.NumAckPending), j.k.stream, j.k.durable)
	}
}

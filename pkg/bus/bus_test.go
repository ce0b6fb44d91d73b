package bus

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/govwatch/govwatch/pkg/model"
)

func TestOpenValidation(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"nothing", Options{}, "no urls and not embedded"},
		{"both", Options{Embedded: true, StoreDir: "x", URLs: []string{"nats://h:4222"}}, "exclusive"},
		{"no store dir", Options{Embedded: true}, "store dir"},
		{"embedded replicas", Options{Embedded: true, StoreDir: "x", Replicas: 3}, "1 replica"},
		{"bad prefix", Options{URLs: []string{"nats://h:4222"}, Prefix: "gov.watch"}, "prefix"},
		{"window over age", Options{URLs: []string{"nats://h:4222"}, MaxAge: time.Minute, DuplicateWindow: time.Hour}, "duplicate window"},
		{"negative size", Options{URLs: []string{"nats://h:4222"}, MaxBytes: -1}, "max bytes -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenUnreachableHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Open(ctx, Options{URLs: []string{"nats://127.0.0.1:1"}, Logger: testLogger(t)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want deadline exceeded", err)
	}
}

// TestMaxBytesDropsTheOldest: a stream capped in size keeps taking posts
// past its cap, dropping the oldest, instead of refusing the publish as a
// full file store would.
func TestMaxBytesDropsTheOldest(t *testing.T) {
	const capBytes = 64 << 10
	b := openEmbedded(t, Options{MaxBytes: capBytes})
	ctx := t.Context()
	publishPosts(t, b, 200) // about 1 KiB of JSON each
	s, err := b.JetStream().Stream(ctx, b.Stream(KindPost))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxBytes != capBytes || info.Config.Discard != jetstream.DiscardOld {
		t.Fatalf("posts stream: max bytes %d, discard %v; want %d, old", info.Config.MaxBytes, info.Config.Discard, capBytes)
	}
	if info.State.Bytes > capBytes || info.State.LastSeq != 200 || info.State.FirstSeq <= 1 {
		t.Fatalf("posts stream holds %d bytes, sequences %d to %d; want at most %d bytes ending at 200, the first gone",
			info.State.Bytes, info.State.FirstSeq, info.State.LastSeq, capBytes)
	}
	// Unset, a stream is bounded by age only.
	other := openEmbedded(t, Options{})
	s, err = other.JetStream().Stream(ctx, other.Stream(KindPost))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxBytes; got != -1 {
		t.Errorf("max bytes unset: stream capped at %d, want -1 (no limit)", got)
	}
}

func TestEnsureStreamsIdempotentAndUpdates(t *testing.T) {
	b := openEmbedded(t, Options{Listen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	for _, k := range Kinds() {
		s, err := b.JetStream().Stream(ctx, b.Stream(k))
		if err != nil {
			t.Fatalf("stream %s: %v", k, err)
		}
		cfg := s.CachedInfo().Config
		if cfg.MaxAge != DefaultMaxAge || cfg.Duplicates != DefaultDuplicateWindow ||
			cfg.Storage != jetstream.FileStorage || cfg.Retention != jetstream.LimitsPolicy {
			t.Errorf("stream %s: got max age %s, dup %s, storage %s, retention %s", cfg.Name, cfg.MaxAge, cfg.Duplicates, cfg.Storage, cfg.Retention)
		}
		if want := "govwatch." + string(k) + ".>"; len(cfg.Subjects) != 1 || cfg.Subjects[0] != want {
			t.Errorf("stream %s: got subjects %v, want [%s]", cfg.Name, cfg.Subjects, want)
		}
	}

	// A process started with a new retention updates the streams.
	b2, err := Open(ctx, Options{URLs: []string{b.ClientURL()}, MaxAge: 48 * time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open second: %v", err)
	}
	defer b2.Close()
	names := b.JetStream().StreamNames(ctx)
	var n int
	for name := range names.Name() {
		n++
		s, err := b.JetStream().Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if got := s.CachedInfo().Config.MaxAge; got != 48*time.Hour {
			t.Errorf("stream %s: got max age %s, want 48h", name, got)
		}
	}
	if n != 5 {
		t.Errorf("got %d streams, want 5 (four kinds and the dead letters)", n)
	}
}

func streamMsgs(t *testing.T, b *Bus, k Kind) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.JetStream().Stream(ctx, b.Stream(k))
	if err != nil {
		t.Fatalf("stream %s: %v", k, err)
	}
	return s.CachedInfo().State.Msgs
}

func TestPublishPostDeduplicates(t *testing.T) {
	b := openEmbedded(t, Options{})
	ctx := context.Background()
	p := testPost(1)

	steps := []struct {
		name    string
		post    func() *model.Post
		wantDup bool
		wantN   uint64
	}{
		{"first", func() *model.Post { return p }, false, 1},
		{"re-poll, new metrics", func() *model.Post { q := *p; q.Metrics.Likes = 99; return &q }, true, 1},
		{"edited", func() *model.Post {
			q := *p
			q.Text += "（更正）"
			q.ContentHash = model.ContentHash(q.Title, q.Text, q.URL)
			return &q
		}, false, 2},
		{"deleted", func() *model.Post { q := *p; q.Deleted = true; return &q }, false, 3},
		{"deleted again", func() *model.Post { q := *p; q.Deleted = true; return &q }, true, 3},
	}
	for _, s := range steps {
		dup, err := b.PublishPost(ctx, s.post())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if dup != s.wantDup {
			t.Errorf("%s: got duplicate %v, want %v", s.name, dup, s.wantDup)
		}
		if got := streamMsgs(t, b, KindPost); got != s.wantN {
			t.Errorf("%s: got %d messages, want %d", s.name, got, s.wantN)
		}
	}
}

func TestPublishRejectsBadTokens(t *testing.T) {
	b := openEmbedded(t, Options{})
	ctx := context.Background()
	bad := testPost(1)
	bad.AccountID = "fj.gov.weibo" // would publish to govwatch.post.weibo.fj.gov.weibo
	if _, err := b.PublishPost(ctx, bad); err == nil {
		t.Errorf("post with dotted account id: got nil error")
	}
	snap := &model.AccountSnapshot{Platform: "weibo", AccountID: "FJ", TakenAt: time.Now()}
	if err := b.PublishSnapshot(ctx, snap); err == nil {
		t.Errorf("snapshot with upper-case account id: got nil error")
	}
	probe := &model.ProbeResult{Platform: "app store", AccountID: "fj", CheckedAt: time.Now()}
	if err := b.PublishProbe(ctx, probe); err == nil {
		t.Errorf("probe with space in platform: got nil error")
	}
	alert := &model.Alert{Labels: model.LabelSet{"alertname": "privacy.*"}, StartsAt: time.Now()}
	if _, err := b.PublishAlert(ctx, alert); err == nil {
		t.Errorf("alert with wildcard name: got nil error")
	}
	for _, k := range Kinds() {
		if got := streamMsgs(t, b, k); got != 0 {
			t.Errorf("stream %s: got %d messages, want 0", k, got)
		}
	}
}

func TestPublishSnapshotProbeAlert(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := openEmbedded(t, Options{Metrics: reg})
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

	snap := &model.AccountSnapshot{Schema: 1, Platform: "weibo", AccountID: "fj-gov-weibo", Followers: 10, TakenAt: at}
	for range 2 {
		if err := b.PublishSnapshot(ctx, snap); err != nil {
			t.Fatalf("snapshot: %v", err)
		}
	}
	if got := streamMsgs(t, b, KindSnapshot); got != 1 {
		t.Errorf("snapshots: got %d messages, want 1", got)
	}
	probe := &model.ProbeResult{Schema: 1, Platform: "app", AccountID: "fj-app", Target: "https://a.example/app.apk", CheckedAt: at}
	if err := b.PublishProbe(ctx, probe); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got := streamMsgs(t, b, KindProbe); got != 1 {
		t.Errorf("probes: got %d messages, want 1", got)
	}

	a := &model.Alert{Labels: model.LabelSet{"alertname": "privacy.id_number", "account_id": "fj-gov-weibo"}, StartsAt: at}
	steps := []struct {
		name    string
		endsAt  time.Time
		wantDup bool
	}{
		{"firing", time.Time{}, false},
		{"firing again (another replica)", time.Time{}, true},
		{"resolved", at.Add(time.Hour), false},
		{"resolved again", at.Add(2 * time.Hour), true},
	}
	for _, s := range steps {
		a.EndsAt = s.endsAt
		dup, err := b.PublishAlert(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if dup != s.wantDup {
			t.Errorf("%s: got duplicate %v, want %v", s.name, dup, s.wantDup)
		}
	}
	if got := streamMsgs(t, b, KindAlert); got != 2 {
		t.Errorf("alerts: got %d messages, want 2", got)
	}

	got := counterValues(t, reg, "govwatch_bus_published_total")
	want := map[string]float64{
		StreamSnapshots + "/ok": 1, StreamSnapshots + "/duplicate": 1,
		StreamProbes + "/ok": 1,
		StreamAlerts + "/ok": 2, StreamAlerts + "/duplicate": 2,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("published_total{%s}: got %v, want %v", k, got[k], v)
		}
	}
}

// TestBusesShareARegistry opens two buses on one registry, as the single
// binary does for its components: both count into the same series.
func TestBusesShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	dir := t.TempDir()
	b1 := openEmbedded(t, Options{Metrics: reg, StoreDir: filepath.Join(dir, "1")})
	b2 := openEmbedded(t, Options{Metrics: reg, StoreDir: filepath.Join(dir, "2")})
	publishPosts(t, b1, 2)
	publishPosts(t, b2, 3)
	if got := counterValues(t, reg, "govwatch_bus_published_total")[StreamPosts+"/ok"]; got != 5 {
		t.Errorf("published_total{%s/ok}: got %v, want 5 from both buses", StreamPosts, got)
	}
}

// counterValues gathers a counter vector as "stream/result" → value.
func counterValues(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var stream, result string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "stream":
					stream = l.GetValue()
				case "result":
					result = l.GetValue()
				}
			}
			out[stream+"/"+result] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestEmbeddedListensForOtherProcesses(t *testing.T) {
	b := openEmbedded(t, Options{Listen: "127.0.0.1:0", Name: "test-embedded"})
	url := b.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("got client url %q, want nats://127.0.0.1:<port>", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ext, err := Open(ctx, Options{URLs: []string{url}, Name: "test-external", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open external: %v", err)
	}
	defer ext.Close()
	if err := ext.Ready(); err != nil {
		t.Fatalf("external ready: %v", err)
	}
	if got := ext.ClientURL(); got != "" {
		t.Errorf("external bus client url: got %q, want empty", got)
	}
	if _, err := ext.PublishPost(ctx, testPost(7)); err != nil {
		t.Fatalf("publish from external: %v", err)
	}
	got := make(chan Message, 1)
	stop := consumeInBackground(t, b, ConsumerConfig{Stream: StreamPosts, Durable: "embedded-side"}, func(_ context.Context, m Message) error {
		got <- m
		return nil
	})
	defer stop()
	select {
	case m := <-got:
		if want := "govwatch.post.weibo.fj-gov-weibo"; m.Subject != want {
			t.Errorf("got subject %q, want %q", m.Subject, want)
		}
	case <-ctx.Done():
		t.Fatal("no message from the external publisher")
	}
}

func TestEmbeddedWithoutListenHasNoClientURL(t *testing.T) {
	b := openEmbedded(t, Options{})
	if got := b.ClientURL(); got != "" {
		t.Errorf("got client url %q, want empty", got)
	}
	if err := b.Ready(); err != nil {
		t.Errorf("ready: %v", err)
	}
}

func TestEmbeddedRestartKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, Options{Embedded: true, StoreDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	publishPosts(t, b, 5)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b.Ready(); err == nil {
		t.Errorf("ready after close: got nil error")
	}

	b2, err := Open(ctx, Options{Embedded: true, StoreDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b2.Close()
	if got := streamMsgs(t, b2, KindPost); got != 5 {
		t.Errorf("after restart: got %d messages, want 5", got)
	}
	dup, err := b2.PublishPost(ctx, testPost(0))
	if err != nil {
		t.Fatalf("republish: %v", err)
	}
	if !dup {
		t.Errorf("republish after restart: got duplicate false, want true")
	}
}

// TestConnectedLogNamesWhereClientsConnect: an embedded server without a
// client port logs an in-process connection, not the default client URL
// nothing listens on; with a port it names that port.
func TestConnectedLogNamesWhereClientsConnect(t *testing.T) {
	for _, listen := range []string{"", "127.0.0.1:0"} {
		core, logs := observer.New(zap.InfoLevel)
		b := openEmbedded(t, Options{Listen: listen, Logger: zap.New(core)})
		entries := logs.FilterMessage("nats connected").All()
		if len(entries) != 1 {
			t.Fatalf("listen %q: %d \"nats connected\" entries, want 1", listen, len(entries))
		}
		got := entries[0].ContextMap()["url"]
		want := "in-process"
		if listen != "" {
			want = "in-process, clients on " + b.ClientURL()
		}
		if got != want {
			t.Errorf("listen %q: logged url %q, want %q", listen, got, want)
		}
	}
}

package analyze_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/metric/metrictest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

var t0 = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

// rig is an analyzer running over a real embedded JetStream and store, with
// every alert it publishes consumed into alerts.
type rig struct {
	bus     *bus.Bus
	clock   *clockwork.FakeClock
	metrics *prometheus.Registry
	an      *analyze.Analyzer
	alerts  chan model.Alert
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	b, err := bus.Open(ctx, bus.Options{Embedded: true, StoreDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(t0)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	reg, probs := registry.New(
		[]registry.Unit{{ID: "fz-edu", Name: "福州市教育局", Region: "350100"}},
		[]registry.Account{
			{ID: "fz-edu-weibo", Name: "福州教育", Platform: "weibo", Unit: "fz-edu"},
			{ID: "fz-old-weibo", Name: "福州教育旧号", Platform: "weibo", Unit: "fz-edu", Status: registry.StatusSuspended},
		})
	if probs != nil {
		t.Fatal(probs)
	}
	stale := staleness.New(14 * 24 * time.Hour)
	r := &rig{bus: b, clock: clock, metrics: prometheus.NewRegistry(), alerts: make(chan model.Alert, 100)}
	r.an = analyze.New(analyze.Options{
		Registry: reg, Bus: b, Store: st,
		Posts:    []detect.PostDetector{content.New(nil), stale},
		Sweepers: []detect.Sweeper{stale},
		Clock:    clock, Log: log, Metrics: r.metrics,
		AckWait: 5 * time.Second,
	})

	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- r.an.Run(runCtx) }()
	go func() {
		done <- b.Consume(runCtx, bus.ConsumerConfig{Stream: b.Stream(bus.KindAlert), Durable: "test-alerts"},
			func(_ context.Context, m bus.Message) error {
				var a model.Alert
				if err := json.Unmarshal(m.Data, &a); err != nil {
					return bus.Permanent(err)
				}
				r.alerts <- a
				return nil
			})
	}()
	t.Cleanup(func() {
		stop()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("analyzer or alert consumer did not stop")
			}
		}
		b.Close()
		st.Close()
	})
	return r
}

func post(account, nativeID, text string, published time.Time) *model.Post {
	p := &model.Post{Schema: model.SchemaVersion, AccountID: account, Platform: "weibo", NativeID: nativeID,
		Kind: model.KindPost, URL: "https://weibo.example/" + nativeID, Title: "通知", Text: text,
		PublishedAt: published, CollectedAt: published.Add(3 * time.Minute)}
	p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
	p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
	return p
}

func (r *rig) publish(t *testing.T, p *model.Post) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.bus.PublishPost(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// publishRaw puts data on the post subject of the weibo account, as it is.
func (r *rig) publishRaw(t *testing.T, account string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subj, err := bus.PostSubject(r.bus.Prefix(), "weibo", account)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.bus.JetStream().Publish(ctx, subj, data); err != nil {
		t.Fatal(err)
	}
}

// next returns the next alert published, failing after a deadline.
func (r *rig) next(t *testing.T) model.Alert {
	t.Helper()
	select {
	case a := <-r.alerts:
		return a
	case <-time.After(15 * time.Second):
		t.Fatal("no alert within 15s")
		return model.Alert{}
	}
}

// alertsStored is the number of alerts on the alert stream; publishing
// returns only once the stream has stored a message.
func (r *rig) alertsStored(t *testing.T) uint64 {
	t.Helper()
	return bustest.AlertStream(t, r.bus).Msgs
}

// counter sums the samples of a counter vector whose labels include labels.
func (r *rig) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := metrictest.Sum(t, r.metrics, name, labels)
	return v
}

// eventually polls cond until it holds, failing after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPostsBecomeAlertsOnTheBus(t *testing.T) {
	r := newRig(t)
	r.publish(t, post("fz-edu-weibo", "1", "受助学生联系电话13912345678，身份证号350702198503123019。", t0))
	got := map[string]model.Alert{}
	for range 2 {
		a := r.next(t)
		got[a.Name()] = a
	}
	for _, cat := range []string{model.CategoryPrivacyPhone, model.CategoryPrivacyIDNumber} {
		a, ok := got[cat]
		if !ok {
			t.Errorf("no %s alert; got %v", cat, got)
			continue
		}
		if a.Labels[model.LabelAccountID] != "fz-edu-weibo" || a.Labels[model.LabelRegion] != "350100" ||
			!a.StartsAt.Equal(t0.Add(3*time.Minute)) || !a.EndsAt.IsZero() {
			t.Errorf("%s: got labels %v, startsAt %v, endsAt %v; want fz-edu-weibo in 350100 firing since %v",
				cat, a.Labels, a.StartsAt, a.EndsAt, t0.Add(3*time.Minute))
		}
		if a.Annotations[model.AnnotationUnitName] != "福州市教育局" {
			t.Errorf("%s: unit_name %q, want 福州市教育局", cat, a.Annotations[model.AnnotationUnitName])
		}
	}
	eventually(t, "posts_total ok = 1", func() bool {
		return r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"platform": "weibo", "result": "ok"}) == 1
	})
	if got := r.counter(t, "govwatch_analyzer_alerts_published_total", map[string]string{"category": model.CategoryPrivacyPhone, "status": "firing"}); got != 1 {
		t.Errorf("alerts_published_total{privacy.phone,firing} = %v, want 1", got)
	}
}

func TestPostsOfUnknownAndInactiveAccountsAreDroppedAndCounted(t *testing.T) {
	r := newRig(t)
	leak := "联系电话13912345678。"
	r.publish(t, post("nobody-weibo", "1", leak, t0))
	r.publish(t, post("fz-old-weibo", "2", leak, t0))
	// An ordinary post of a watched account afterwards: once it is counted,
	// the two before it have been handled (one consumer, in order).
	r.publish(t, post("fz-edu-weibo", "3", "今日天气晴。", t0))
	eventually(t, "the ordinary post counted", func() bool {
		return r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"result": "ok"}) == 1
	})
	for _, result := range []string{"unknown_account", "inactive_account"} {
		if got := r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"platform": "weibo", "result": result}); got != 1 {
			t.Errorf("posts_total{weibo,%s} = %v, want 1", result, got)
		}
	}
	if got := r.alertsStored(t); got != 0 {
		t.Errorf("alert stream holds %d alerts, want none", got)
	}
}

// TestPostOnAnotherAccountsSubjectIsRejected: a payload naming another
// account than its subject (a publisher allowed one account's subject
// speaking for another) is terminated and counted, and judges nobody.
func TestPostOnAnotherAccountsSubjectIsRejected(t *testing.T) {
	r := newRig(t)
	forged, err := json.Marshal(post("fz-edu-weibo", "1", "联系电话13912345678。", t0))
	if err != nil {
		t.Fatal(err)
	}
	r.publishRaw(t, "fz-old-weibo", forged)
	r.publish(t, post("fz-edu-weibo", "2", "今日天气晴。", t0))
	eventually(t, "the post after the forged one counted", func() bool {
		return r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"result": "ok"}) == 1
	})
	if got := r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"platform": "weibo", "result": "subject_mismatch"}); got != 1 {
		t.Errorf("posts_total{weibo,subject_mismatch} = %v, want 1", got)
	}
	if n := r.alertsStored(t); n != 0 {
		t.Errorf("%d alerts published for a forged post, want none", n)
	}
}

func TestMalformedPostIsTerminated(t *testing.T) {
	r := newRig(t)
	r.publishRaw(t, "fz-edu-weibo", []byte(`{"id": 42,`))
	r.publish(t, post("fz-edu-weibo", "1", "今日天气晴。", t0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eventually(t, "the post after the malformed one counted", func() bool {
		return r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"result": "ok"}) == 1
	})
	if got := r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"platform": "unknown", "result": "malformed"}); got != 1 {
		t.Errorf("posts_total{unknown,malformed} = %v, want 1", got)
	}
	// Terminated, not left for redelivery: nothing pending, nothing redelivered.
	cons, err := r.bus.JetStream().Consumer(ctx, r.bus.Stream(bus.KindPost), "analyzer")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "both messages settled", func() bool {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == 2
	})
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 {
		t.Errorf("consumer redelivered %d messages, want 0", info.NumRedelivered)
	}
}

func TestSweepRunsSweepers(t *testing.T) {
	r := newRig(t)
	r.publish(t, post("fz-edu-weibo", "1", "今日天气晴。", t0))
	eventually(t, "the post counted", func() bool {
		return r.counter(t, "govwatch_analyzer_posts_total", map[string]string{"result": "ok"}) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r.clock.Advance(10 * 24 * time.Hour)
	if err := r.an.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(5 * 24 * time.Hour) // 15 days after the post
	if err := r.an.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	a := r.next(t)
	if a.Name() != model.CategoryAccountStale || a.Labels[model.LabelAccountID] != "fz-edu-weibo" ||
		!a.StartsAt.Equal(t0.Add(14*24*time.Hour)) {
		t.Errorf("got %s for %s since %v, want account.stale for fz-edu-weibo since %v",
			a.Name(), a.Labels[model.LabelAccountID], a.StartsAt, t0.Add(14*24*time.Hour))
	}
	if got := r.counter(t, "govwatch_analyzer_sweeps_total", nil); got != 2 {
		t.Errorf("sweeps_total = %v, want 2", got)
	}
	// The suspended account, silent all along, never alerts.
	if got := r.alertsStored(t); got != 1 {
		t.Errorf("alert stream holds %d alerts, want 1", got)
	}
}

// TestSeriesStartAtZero: the alerts of every category and the posts of
// every platform are series from the start, so the first alert of a kind
// is an increase a rate() over a fresh scrape sees.
func TestSeriesStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	analyze.New(analyze.Options{Metrics: reg})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetCounter().GetValue() != 0 {
				continue
			}
			key := mf.GetName()
			for _, lp := range m.GetLabel() {
				key += " " + lp.GetValue()
			}
			seen[key] = true
		}
	}
	want := []string{"govwatch_analyzer_posts_total weibo ok", "govwatch_analyzer_posts_total unknown malformed"}
	for _, c := range model.Categories() {
		want = append(want, "govwatch_analyzer_alerts_published_total "+c.ID+" firing", "govwatch_analyzer_alerts_published_total "+c.ID+" resolved")
	}
	if len(model.Categories()) == 0 {
		t.Fatal("no category declared")
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("no series %q at 0", k)
		}
	}
}

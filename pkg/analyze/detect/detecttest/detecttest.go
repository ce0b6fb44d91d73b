// Package detecttest runs a detector's golden test cases, in the manner of
// Telegraf's testcases/<case>/ folders. Each case is a folder holding
//
//	config.yaml     the start time, units and accounts, and the detector's
//	                section (its keys under analyzer.detectors.<name>)
//	input.jsonl     events in virtual time: a post, an account snapshot, a
//	                probe result, a registry change, or a sweep
//	expected.jsonl  the alerts the detector publishes, one per line
//
// The runner moves a clockwork.FakeClock to each event's time, hands posts
// to the detector's Post and sweeps to its Sweep over a fresh embedded store,
// records what is published and compares it with expected.jsonl. Run the
// tests with -update to rewrite the expected files from what the detector
// does now; review the diff before committing it. See the README.md in a
// detector's testcases folder for the exact comparison.
package detecttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

var update = flag.Bool("update", false, "rewrite the expected.jsonl of golden test cases")

// Compared are the annotations kept in expected.jsonl: the texts people
// read. url and unit_name repeat the input and are left out.
var Compared = []string{
	model.AnnotationSummary,
	model.AnnotationDescription,
	model.AnnotationEvidence,
	model.AnnotationSuggestion,
}

// Config is a case's config.yaml.
type Config struct {
	// Start is the virtual time the clock starts at.
	Start    time.Time `yaml:"start"`
	Units    []Unit    `yaml:"units"`
	Accounts []Account `yaml:"accounts"`
	// Detector is the detector's own settings, in the form of its section
	// of the analyzer's config; the Build function decodes it (DecodeDetector).
	Detector yaml.Node `yaml:"detector"`
}

// DecodeDetector decodes the case's detector settings into v strictly (an
// unknown key is an error); an absent section leaves v as it is.
func (c *Case) DecodeDetector(v any) error {
	if c.Config.Detector.Kind == 0 {
		return nil
	}
	b, err := yaml.Marshal(&c.Config.Detector)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s/config.yaml: detector: %w", c.Dir, err)
	}
	return nil
}

// Unit is a registry unit of a case.
type Unit struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Region string `yaml:"region"`
}

// Account is a registry account of a case.
type Account struct {
	ID         string        `yaml:"id"`
	Name       string        `yaml:"name"`
	Platform   string        `yaml:"platform"`
	Unit       string        `yaml:"unit"`
	Status     string        `yaml:"status"`
	StaleAfter conf.Duration `yaml:"stale_after"`
	// StaleWarningAfter and ZombieAfter are the account's own reminder and
	// closure-candidate thresholds.
	StaleWarningAfter conf.Duration `yaml:"stale_warning_after"`
	ZombieAfter       conf.Duration `yaml:"zombie_after"`
}

// RegistryAccount is an account in a registry event.
type RegistryAccount struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Unit     string `json:"unit"`
	Status   string `json:"status"`
}

// RegistryChange replaces the case's accounts from its time on, as a
// registry reload does; the units stay.
type RegistryChange struct {
	Accounts []RegistryAccount `json:"accounts"`
}

// Event is one line of input.jsonl.
type Event struct {
	At    time.Time   `json:"at"`
	Post  *model.Post `json:"post,omitempty"`
	Sweep bool        `json:"sweep,omitempty"`
	// Snapshot and Probe may leave out schema, platform (the account's) and
	// taken_at / checked_at (the event's at).
	Snapshot *model.AccountSnapshot `json:"snapshot,omitempty"`
	Probe    *model.ProbeResult     `json:"probe,omitempty"`
	Registry *RegistryChange        `json:"registry,omitempty"`
}

// kinds counts what an event carries; a valid event carries exactly one.
func (ev *Event) kinds() int {
	n := 0
	for _, set := range []bool{ev.Post != nil, ev.Sweep, ev.Snapshot != nil, ev.Probe != nil, ev.Registry != nil} {
		if set {
			n++
		}
	}
	return n
}

// Alert is one line of expected.jsonl: an alert as published, reduced to
// what is compared, and the virtual time of the event that published it.
type Alert struct {
	At          time.Time         `json:"at"`
	Labels      model.LabelSet    `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      string            `json:"endsAt,omitempty"` // RFC 3339, absent while firing
}

// Published is an alert as the detector published it, whole, with the time
// of the event that published it.
type Published struct {
	At    time.Time
	Alert model.Alert
}

// Case is a loaded test case.
type Case struct {
	Name     string
	Dir      string
	Config   Config
	Registry *registry.Registry
	Events   []Event
}

// Build makes the detector under test for a case. It returns a
// detect.PostDetector, a detect.Sweeper or both.
type Build func(c *Case) any

// Configured is the Build of a detector made by newDetector from its
// defaults overlaid with the case's detector section.
func Configured[C, D any](t testing.TB, defaults func() C, newDetector func(C) D) Build {
	return ConfiguredOrError(t, defaults, func(c C) (D, error) { return newDetector(c), nil })
}

// ConfiguredOrError is Configured for a constructor that may fail; a
// failure fails the test.
func ConfiguredOrError[C, D any](t testing.TB, defaults func() C, newDetector func(C) (D, error)) Build {
	return func(c *Case) any {
		cfg := defaults()
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		d, err := newDetector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

// RunAll runs every case under dir (normally "testcases") as a subtest and
// returns what each published, by case name, for extra checks.
func RunAll(t *testing.T, dir string, build Build) map[string][]Published {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]Published{}
	var mu sync.Mutex
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			got := Run(t, filepath.Join(dir, e.Name()), build)
			mu.Lock()
			out[e.Name()] = got
			mu.Unlock()
		})
	}
	if n == 0 {
		t.Fatalf("no test cases under %s", dir)
	}
	return out
}

// Load reads the case in dir.
func Load(dir string) (*Case, error) {
	c := &Case{Name: filepath.Base(dir), Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, err
	}
	if err := conf.CheckAliases(filepath.Join(dir, "config.yaml"), b); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c.Config); err != nil {
		return nil, fmt.Errorf("%s/config.yaml: %w", dir, err)
	}
	if c.Config.Start.IsZero() {
		return nil, fmt.Errorf("%s/config.yaml: no start time", dir)
	}
	var units []registry.Unit
	for _, u := range c.Config.Units {
		units = append(units, registry.Unit{ID: u.ID, Name: u.Name, Region: u.Region})
	}
	var accounts []registry.Account
	for _, a := range c.Config.Accounts {
		accounts = append(accounts, registry.Account{ID: a.ID, Name: a.Name, Platform: a.Platform,
			Unit: a.Unit, Status: a.Status, StaleAfter: a.StaleAfter.D(),
			StaleWarningAfter: a.StaleWarningAfter.D(), ZombieAfter: a.ZombieAfter.D()})
	}
	reg, probs := registry.New(units, accounts)
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s/config.yaml: registry: %v", dir, probs)
	}
	c.Registry = reg

	f, err := os.Open(filepath.Join(dir, "input.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ev Event
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			return nil, fmt.Errorf("%s/input.jsonl:%d: %w", dir, line, err)
		}
		if ev.At.IsZero() || ev.kinds() != 1 {
			return nil, fmt.Errorf("%s/input.jsonl:%d: want \"at\" and one of \"post\", \"snapshot\", \"probe\", \"registry\" or \"sweep\"", dir, line)
		}
		if len(c.Events) > 0 && ev.At.Before(c.Events[len(c.Events)-1].At) || ev.At.Before(c.Config.Start) {
			return nil, fmt.Errorf("%s/input.jsonl:%d: time goes backwards", dir, line)
		}
		if ev.Post != nil {
			fillPost(ev.Post, ev.At, reg)
		}
		if ev.Snapshot != nil {
			fill(&ev.Snapshot.Schema, &ev.Snapshot.Platform, &ev.Snapshot.TakenAt, ev.Snapshot.AccountID, ev.At, reg)
		}
		if ev.Probe != nil {
			fill(&ev.Probe.Schema, &ev.Probe.Platform, &ev.Probe.CheckedAt, ev.Probe.AccountID, ev.At, reg)
		}
		if ev.Registry != nil {
			if _, err := ev.Registry.apply(reg); err != nil {
				return nil, fmt.Errorf("%s/input.jsonl:%d: %w", dir, line, err)
			}
		}
		c.Events = append(c.Events, ev)
	}
	return c, sc.Err()
}

// fillPost completes what a case may leave out of a post: besides what
// fill completes, the id is built from the platform, the hash is computed
// and the kind is post.
func fillPost(p *model.Post, at time.Time, reg *registry.Registry) {
	fill(&p.Schema, &p.Platform, &p.CollectedAt, p.AccountID, at, reg)
	if p.Kind == "" {
		p.Kind = model.KindPost
	}
	if p.ID == "" {
		p.ID = model.PostID(p.Platform, p.AccountID, p.NativeID)
	}
	if p.ContentHash == "" {
		p.ContentHash = model.ContentHashLinks(p.Title, p.Text, p.URL, p.Links)
	}
}

// fill completes what a case may leave out of any input: the schema is
// the current one, the platform is the account's and the time it was
// taken (when) is the event's.
func fill(schema *int, platform *string, when *time.Time, accountID string, at time.Time, reg *registry.Registry) {
	if *schema == 0 {
		*schema = model.SchemaVersion
	}
	if a, ok := reg.Account(accountID); ok && *platform == "" {
		*platform = a.Platform
	}
	if when.IsZero() {
		*when = at
	}
}

func (rc *RegistryChange) apply(reg *registry.Registry) (*registry.Registry, error) {
	var units []registry.Unit
	for _, id := range reg.UnitIDs() {
		u, _ := reg.Unit(id)
		units = append(units, *u)
	}
	var accounts []registry.Account
	for _, a := range rc.Accounts {
		accounts = append(accounts, registry.Account{ID: a.ID, Name: a.Name, Platform: a.Platform, Unit: a.Unit, Status: a.Status})
	}
	next, probs := registry.New(units, accounts)
	if len(probs) > 0 {
		return nil, fmt.Errorf("registry: %v", probs)
	}
	return next, nil
}

// Run runs the case in dir and compares, or with -update rewrites, its
// expected.jsonl. It returns what was published.
func Run(t *testing.T, dir string, build Build) []Published {
	t.Helper()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := Drive(t, c, build(c))
	path := filepath.Join(dir, "expected.jsonl")
	gotText := Encode(got)
	if *update {
		if err := os.WriteFile(path, []byte(gotText), 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := diffLines(string(want), gotText); d != "" {
		t.Errorf("%s: published alerts differ from expected.jsonl (-want +got):\n%s", c.Name, d)
	}
	if d := diffLines(gotText, Encode(DriveRestarting(t, c, build))); d != "" {
		t.Errorf("%s: restarting before every event changes what is published (-straight +restarting):\n%s", c.Name, d)
	}
	return got
}

// Drive feeds c's events to detector d and returns what it published. Like
// the analyzer, it drops posts of unknown and inactive accounts.
func Drive(t *testing.T, c *Case, d any) []Published {
	t.Helper()
	_, isPost := d.(detect.PostDetector)
	_, isSweep := d.(detect.Sweeper)
	_, isSnapshot := d.(detect.SnapshotDetector)
	_, isProbe := d.(detect.ProbeDetector)
	if !isPost && !isSweep && !isSnapshot && !isProbe {
		t.Fatalf("%T is no PostDetector, SnapshotDetector, ProbeDetector or Sweeper", d)
	}
	clock := clockwork.NewFakeClockAt(c.Config.Start)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return DriveWith(t, c, d, st, clock)
}

// DriveWith is Drive over a store and clock of the caller's, so a test can
// look at the state a case leaves behind. The clock must stand at the case's
// start.
func DriveWith(t *testing.T, c *Case, d any, st detect.Store, clock *clockwork.FakeClock) []Published {
	t.Helper()
	rec := &Recorder{}
	env := &detect.Env{
		Registry:     c.Registry,
		Store:        st,
		Publisher:    rec,
		Now:          clock.Now,
		GeneratorURL: "http://analyzer.test",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []Published
	for i, ev := range c.Events {
		clock.Advance(ev.At.Sub(clock.Now()))
		if err := step(ctx, env, d, ev); err != nil {
			t.Fatalf("event %d (%s): %v", i+1, ev.At.Format(time.RFC3339), err)
		}
		out = append(out, take(rec, ev.At)...)
	}
	return out
}

// DriveRestarting is Drive with a restart before every event: the store is
// closed and opened again and the detector built anew, so whatever a
// detector kept in memory instead of the store is lost. Its output must
// equal Drive's.
func DriveRestarting(t *testing.T, c *Case, build Build) []Published {
	t.Helper()
	clock := clockwork.NewFakeClockAt(c.Config.Start)
	path := filepath.Join(t.TempDir(), "state.db")
	rec := &Recorder{}
	env := &detect.Env{Registry: c.Registry, Publisher: rec, Now: clock.Now, GeneratorURL: "http://analyzer.test"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []Published
	for i, ev := range c.Events {
		clock.Advance(ev.At.Sub(clock.Now()))
		st, err := embedded.Open(path, embedded.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		env.Store = st
		err = step(ctx, env, build(c), ev)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("event %d (%s): %v", i+1, ev.At.Format(time.RFC3339), err)
		}
		out = append(out, take(rec, ev.At)...)
	}
	return out
}

// take returns what rec holds, in a stable order, stamped with at.
func take(rec *Recorder, at time.Time) []Published {
	batch := rec.Take()
	sortAlerts(batch)
	out := make([]Published, 0, len(batch))
	for _, a := range batch {
		out = append(out, Published{At: at, Alert: a})
	}
	return out
}

// step hands one event to the detector d, as the analyzer would: items of
// unknown and inactive accounts are dropped; a registry change replaces
// env.Registry.
func step(ctx context.Context, env *detect.Env, d any, ev Event) error {
	pd, isPost := d.(detect.PostDetector)
	sw, isSweep := d.(detect.Sweeper)
	sd, isSnapshot := d.(detect.SnapshotDetector)
	prd, isProbe := d.(detect.ProbeDetector)
	active := func(id string) (*registry.Account, bool) {
		a, ok := env.Registry.Account(id)
		return a, ok && a.Active()
	}
	switch {
	case ev.Registry != nil:
		reg, err := ev.Registry.apply(env.Registry)
		if err != nil {
			return err
		}
		env.Registry = reg
	case ev.Snapshot != nil && isSnapshot:
		if a, ok := active(ev.Snapshot.AccountID); ok {
			s := *ev.Snapshot
			if err := sd.Snapshot(ctx, env, &s, a); err != nil {
				return fmt.Errorf("snapshot of %s: %w", s.AccountID, err)
			}
		}
	case ev.Probe != nil && isProbe:
		if a, ok := active(ev.Probe.AccountID); ok {
			r := *ev.Probe
			if err := prd.Probe(ctx, env, &r, a); err != nil {
				return fmt.Errorf("probe of %s: %w", r.AccountID, err)
			}
		}
	case ev.Post != nil && isPost:
		if a, ok := active(ev.Post.AccountID); ok {
			p := *ev.Post
			if err := pd.Post(ctx, env, &p, a); err != nil {
				return fmt.Errorf("post %s: %w", p.ID, err)
			}
		}
	case ev.Sweep && isSweep:
		if err := sw.Sweep(ctx, env); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	}
	return nil
}

// sortAlerts orders the alerts one event published, which detectors may
// publish in map order: by alertname, account, post, then firing before
// resolved.
func sortAlerts(as []model.Alert) {
	key := func(a model.Alert) string {
		state := "0"
		if !a.EndsAt.IsZero() {
			state = "1"
		}
		return a.Labels[model.LabelAlertname] + "\x00" + a.Labels[model.LabelAccountID] + "\x00" +
			a.Labels[model.LabelPostID] + "\x00" + state
	}
	sort.SliceStable(as, func(i, j int) bool { return key(as[i]) < key(as[j]) })
}

// Encode renders published alerts as expected.jsonl.
func Encode(ps []Published) string {
	var b strings.Builder
	for _, p := range ps {
		a := Alert{At: p.At.UTC(), Labels: p.Alert.Labels, StartsAt: p.Alert.StartsAt.UTC()}
		if !p.Alert.EndsAt.IsZero() {
			a.EndsAt = p.Alert.EndsAt.UTC().Format(time.RFC3339Nano)
		}
		for _, k := range Compared {
			if v, ok := p.Alert.Annotations[k]; ok && v != "" {
				if a.Annotations == nil {
					a.Annotations = map[string]string{}
				}
				a.Annotations[k] = v
			}
		}
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(a); err != nil {
			panic(err) // only strings and times
		}
		b.Write(line.Bytes())
	}
	return b.String()
}

// diffLines returns a line diff of want and got, or "" when equal.
func diffLines(want, got string) string {
	if want == got {
		return ""
	}
	w := strings.Split(strings.TrimRight(want, "\n"), "\n")
	g := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if want == "" {
		w = nil
	}
	if got == "" {
		g = nil
	}
	// Longest common subsequence, small inputs.
	lcs := make([][]int, len(w)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(g)+1)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case i < len(w) && (j == len(g) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&b, "- %s\n", w[i])
			i++
		default:
			fmt.Fprintf(&b, "+ %s\n", g[j])
			j++
		}
	}
	return b.String()
}

// Recorder is a detect.Publisher that keeps a copy of every alert it is
// given, repeats included, so a case shows what reaches the bus; the bus's
// own de-duplication is tested against the real bus.
type Recorder struct {
	mu     sync.Mutex
	alerts []model.Alert
}

// PublishAlert implements detect.Publisher.
func (r *Recorder) PublishAlert(_ context.Context, a *model.Alert) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := *a
	cp.Labels = make(model.LabelSet, len(a.Labels))
	for k, v := range a.Labels {
		cp.Labels[k] = v
	}
	cp.Annotations = make(map[string]string, len(a.Annotations))
	for k, v := range a.Annotations {
		cp.Annotations[k] = v
	}
	r.alerts = append(r.alerts, cp)
	return false, nil
}

// Take returns the alerts recorded since the last Take.
func (r *Recorder) Take() []model.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.alerts
	r.alerts = nil
	return out
}

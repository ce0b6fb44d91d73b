package textscan

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/configs/lexicons"
)

// Live holds the engine of a lexicon directory and swaps it atomically when
// the files change or on demand (SIGHUP). A directory that no longer loads
// keeps the previous engine in service and is reported.
type Live struct {
	fsys fs.FS
	name string // the directory, or "(built-in)"
	log  *zap.Logger
	now  func() time.Time

	cur   atomic.Pointer[Engine]
	mu    sync.Mutex // serialises reloads
	stamp string

	info    *prometheus.GaugeVec
	terms   prometheus.Gauge
	reloads *prometheus.CounterVec
}

// Builtin is the name Live and `govwatch check` give the embedded lexicons.
const Builtin = "(built-in)"

// NewLive loads the lexicons of dir (the embedded defaults when dir is
// empty) and registers the analyzer's lexicon metrics with reg:
// govwatch_analyzer_lexicon_info{version} (1 for the version in use),
// govwatch_analyzer_lexicon_terms and
// govwatch_analyzer_lexicon_reloads_total{result}.
func NewLive(dir string, reg prometheus.Registerer, log *zap.Logger, now func() time.Time) (*Live, error) {
	l := &Live{fsys: lexicons.FS, name: Builtin, log: log, now: now}
	if dir != "" {
		l.fsys, l.name = os.DirFS(dir), dir
	}
	if l.log == nil {
		l.log = zap.NewNop()
	}
	l.info = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "govwatch_analyzer_lexicon_info", Help: "The lexicon version in use (a digest of its files), always 1.",
	}, []string{"version"})
	l.terms = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "govwatch_analyzer_lexicon_terms", Help: "Terms and contexts in the lexicon in use.",
	})
	l.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "govwatch_analyzer_lexicon_reloads_total", Help: "Lexicon reloads by result (ok, error).",
	}, []string{"result"})
	if reg != nil {
		for _, c := range []prometheus.Collector{l.info, l.terms, l.reloads} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("lexicon metrics: %w", err)
			}
		}
	}
	if _, err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Engine is the engine in service.
func (l *Live) Engine() *Engine { return l.cur.Load() }

// Scan scans text with the engine in service.
func (l *Live) Scan(text string) []Finding { return l.Engine().Scan(text) }

// Reload loads the directory again and swaps the engine in if it loads. It
// reports whether the engine changed; on error the old one stays.
func (l *Live) Reload() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp, err := l.fingerprint()
	if err == nil && stamp == l.stamp && l.cur.Load() != nil {
		return false, nil
	}
	var e *Engine
	if err == nil {
		var lex *Lexicon
		if lex, err = LoadLexicon(l.fsys); err == nil {
			e, err = NewEngine(lex, l.now)
		}
	}
	if err != nil {
		l.reloads.WithLabelValues("error").Inc()
		l.stamp = stamp // a bad set is reported once, not on every poll
		return false, fmt.Errorf("lexicons %s: %w", l.name, err)
	}
	old := l.cur.Swap(e)
	l.stamp = stamp
	l.reloads.WithLabelValues("ok").Inc()
	if old != nil {
		l.info.DeleteLabelValues(old.Version())
	}
	l.info.WithLabelValues(e.Version()).Set(1)
	l.terms.Set(float64(e.Terms()))
	l.log.Info("lexicons loaded", zap.String("dir", l.name), zap.String("version", e.Version()), zap.Int("terms", e.Terms()))
	return true, nil
}

// fingerprint names, sizes and modification times of the *.txt files, so a
// poll reads no file that did not change.
func (l *Live) fingerprint() (string, error) {
	names, err := fs.Glob(l.fsys, "*.txt")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		st, err := fs.Stat(l.fsys, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s %d %d\n", n, st.Size(), st.ModTime().UnixNano())
	}
	return b.String(), nil
}

// Watch reloads every interval on clock when the files changed, and at once
// on each value from hup (SIGHUP), until ctx is done. Errors are logged; the
// old engine stays in service.
func (l *Live) Watch(ctx context.Context, clock clockwork.Clock, interval time.Duration, hup <-chan os.Signal) {
	t := clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		case <-hup:
			l.mu.Lock()
			l.stamp = "" // an explicit reload reads the files whatever their times
			l.mu.Unlock()
		}
		if _, err := l.Reload(); err != nil {
			l.log.Error("lexicon reload failed; keeping the lexicons in service", zap.Error(err))
		}
	}
}

var (
	defaultOnce   sync.Once
	defaultEngine *Engine
)

// Default is the engine of the embedded lexicons, built on first use. The
// shipped files are tested to load, so a failure here is a build defect.
func Default() *Engine {
	defaultOnce.Do(func() {
		lex, err := LoadLexicon(lexicons.FS)
		if err == nil {
			defaultEngine, err = NewEngine(lex, nil)
		}
		if err != nil {
			panic("textscan: built-in lexicons: " + err.Error())
		}
	})
	return defaultEngine
}

// WatchWhile runs run(ctx) while l reloads on change (every interval) and
// on SIGHUP, and returns run's error once the watcher has stopped.
func WatchWhile(ctx context.Context, l *Live, clock clockwork.Clock, interval time.Duration, run func(context.Context) error) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Watch(wctx, clock, interval, hup)
	}()
	err := run(ctx)
	cancel()
	<-done
	return err
}

// Package detect declares what a detector is and gives detectors the pieces
// they share: the state store, the publishing of firing and resolved alerts,
// and read-modify-write of state records. Labels and Chinese texts come from
// pkg/alerttext. Each detector is a folder below this one.
package detect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Store is the state detectors keep; all of it lives in the shared store so
// several analyzer replicas agree and a restart loses nothing.
type Store = store.ListKV

// Publisher sends the detectors' alerts.
type Publisher = model.AlertPublisher

// Env is what every detector is given.
type Env struct {
	Registry  *registry.Registry
	Store     Store
	Publisher Publisher
	Now       func() time.Time
	// GeneratorURL is the analyzer's external URL, linked from alerts.
	GeneratorURL string
	// Published, when set, is told of every alert sent.
	Published func(a *model.Alert)
	// Forgot, when set, is told of every key Forget deleted, by detector.
	Forgot func(detector string, keys int)
}

// Known reports whether the registry has the account id, active or not.
// The state of an account it no longer has is forgotten (Forget) where a
// sweep meets it, so a removed account's keys do not outlive it.
func (env *Env) Known(id string) bool {
	_, ok := env.Registry.Account(id)
	return ok
}

// Forget deletes keys, the state of accounts the registry no longer has
// that detector met while it swept its kinds. Deleting is safe on several
// replicas at once; a replica whose registry still has the account writes
// the state again when it next needs it.
func (env *Env) Forget(ctx context.Context, detector string, keys []string) error {
	var errs []error
	n := 0
	for _, k := range keys {
		if err := env.Store.Delete(ctx, k); err != nil {
			errs = append(errs, fmt.Errorf("forget %s: %w", k, err))
			continue
		}
		n++
	}
	if n > 0 && env.Forgot != nil {
		env.Forgot(detector, n)
	}
	return errors.Join(errs...)
}

// PostDetector judges each collected item.
//
// Lifecycle: built once at start; Post is called for every Post the
// analyzer consumes, concurrently for different posts. An error means the
// post is redelivered later, so Post must be safe to repeat.
type PostDetector interface {
	Name() string
	Post(ctx context.Context, env *Env, p *model.Post, a *registry.Account) error
}

// SnapshotDetector judges each AccountSnapshot (followers, name, avatar, bio).
//
// Lifecycle as PostDetector: built once, called concurrently for different
// snapshots, must be safe to repeat.
type SnapshotDetector interface {
	Name() string
	Snapshot(ctx context.Context, env *Env, s *model.AccountSnapshot, a *registry.Account) error
}

// ProbeDetector judges each availability ProbeResult.
//
// Lifecycle as PostDetector.
type ProbeDetector interface {
	Name() string
	Probe(ctx context.Context, env *Env, r *model.ProbeResult, a *registry.Account) error
}

// Sweeper judges every account on a schedule, noticing what no message
// announces (silence). Sweep must be safe to run on several replicas at once.
type Sweeper interface {
	Name() string
	Sweep(ctx context.Context, env *Env) error
}

// EachAccount calls judge with every account of env's registry in order,
// stopping when ctx ends. One account's error, prefixed with its id, does
// not keep the others from being judged; the errors come back joined.
func EachAccount(ctx context.Context, env *Env, judge func(a *registry.Account) error) error {
	var errs []error
	for _, a := range env.Registry.Accounts() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := judge(a); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Publish sends a, telling env.Published; a nil a is nothing to send.
func (env *Env) Publish(ctx context.Context, a *model.Alert) error {
	if a == nil {
		return nil
	}
	if a.GeneratorURL == "" {
		a.GeneratorURL = env.GeneratorURL
	}
	if u, ok := env.Registry.Unit(a.Labels[model.LabelUnit]); ok && u.Name != "" {
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		a.Annotations[model.AnnotationUnitName] = u.Name
	}
	if _, err := env.Publisher.PublishAlert(ctx, a); err != nil {
		return err
	}
	if env.Published != nil {
		env.Published(a)
	}
	return nil
}

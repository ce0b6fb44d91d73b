package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/store"
)

// sourceIndex keeps the active alerts an inhibition rule's source matchers
// match, each as its labels under notifier/inhibit-source/<fingerprint>,
// so that checking whether an alert is inhibited reads the few alerts that
// can inhibit rather than every record. The lifecycle writes an entry when
// a source alert's incident opens and removes it when the alert resolves;
// each tick, which reads every record anyway, repairs what a crash between
// the two writes left behind.
type sourceIndex struct {
	store store.Store
	rules []inhibit.Rule
}

var sourceKind = store.DeclareKind("notifier/inhibit-source/", 1)

func sourceKey(fp string) string { return sourceKind + fp }

// observe keeps r's entry in step with its record after a lifecycle move.
func (s *sourceIndex) observe(ctx context.Context, r *Record) error {
	if len(s.rules) == 0 || !inhibit.Sourced(s.rules, r.Alert.Labels) {
		return nil
	}
	if !r.Active() {
		return s.store.Delete(context.WithoutCancel(ctx), sourceKey(r.Fingerprint))
	}
	b, err := json.Marshal(r.Alert.Labels)
	if err != nil {
		return err
	}
	return s.store.Set(context.WithoutCancel(ctx), sourceKey(r.Fingerprint), b, 0)
}

// active returns the indexed source alerts.
func (s *sourceIndex) active(ctx context.Context) ([]inhibit.Active, error) {
	var out []inhibit.Active
	err := s.store.List(ctx, sourceKind, func(key string, v []byte) error {
		var ls model.LabelSet
		if json.Unmarshal(v, &ls) != nil {
			return nil
		}
		out = append(out, inhibit.Active{Fingerprint: strings.TrimPrefix(key, sourceKind), Labels: ls})
		return nil
	})
	return out, err
}

// repair makes the index hold the active source alerts: all are the
// records a tick read, and what a crash between a record's write and its
// entry's left wrong is put right. A record may have moved since the tick
// read it, so each entry to change is judged on the record read afresh.
func (s *sourceIndex) repair(ctx context.Context, all []Record, records *lifecycle) error {
	if len(s.rules) == 0 {
		return nil
	}
	have, err := s.active(ctx)
	if err != nil {
		return err
	}
	check := map[string]bool{} // fingerprints whose entry may be wrong
	for _, a := range have {
		check[a.Fingerprint] = true
	}
	for i := range all {
		r := &all[i]
		want := r.Active() && inhibit.Sourced(s.rules, r.Alert.Labels)
		if want == check[r.Fingerprint] {
			delete(check, r.Fingerprint) // as it should be
		} else {
			check[r.Fingerprint] = true
		}
	}
	var errs []error
	for fp := range check {
		r, err := records.get(ctx, fp)
		switch {
		case errors.Is(err, ErrNoAlert):
			errs = append(errs, s.store.Delete(ctx, sourceKey(fp)))
		case err != nil:
			errs = append(errs, err)
		case !inhibit.Sourced(s.rules, r.Alert.Labels):
			errs = append(errs, s.store.Delete(ctx, sourceKey(fp)))
		default:
			errs = append(errs, s.observe(ctx, r))
		}
	}
	return errors.Join(errs...)
}

package notify

import (
	"context"
	"slices"

	"github.com/govwatch/govwatch/pkg/notify/inhibit"
)

// inhibitor is the inhibition stage: an alert that an inhibition rule
// targets pages nobody while a source alert of the rule fires with the
// same values of the rule's equal labels. Resolutions pass: whoever was
// told of the firing hears of its end.
type inhibitor struct {
	rules   []inhibit.Rule
	records *lifecycle
	sources *sourceIndex
	m       *metrics
}

func (i *inhibitor) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	if d.rec.Status == StatusResolved {
		return d, nil
	}
	by, err := i.by(ctx, d)
	if err != nil || by == "" {
		return d, err
	}
	if d.moved {
		i.m.inhibited.WithLabelValues(d.rec.Alert.Name()).Inc()
	}
	return nil, nil
}

// by returns the fingerprint of the alert inhibiting d's, or "". Unless the
// delivery carries the active alerts read already, it reads them, and only
// when a rule targets the alert: most alerts no rule targets, and for them
// that read of every record would be wasted.
func (i *inhibitor) by(ctx context.Context, d *delivery) (string, error) {
	if d.inhibitor == nil {
		if !inhibit.Targeted(i.rules, d.rec.Alert.Labels) {
			return "", nil
		}
		idx, err := i.indexFor(ctx, d.rec)
		if err != nil {
			return "", err
		}
		d.inhibitor = idx
	}
	by, _ := d.inhibitor.Inhibitor(d.rec.Fingerprint, d.rec.Alert.Labels)
	return by, nil
}

// indexFor reads the active inhibition sources when a rule targets one of
// recs: the source index, not every record.
func (i *inhibitor) indexFor(ctx context.Context, recs ...*Record) (*inhibit.Index, error) {
	var sources []inhibit.Active
	if slices.ContainsFunc(recs, func(r *Record) bool { return inhibit.Targeted(i.rules, r.Alert.Labels) }) {
		var err error
		if sources, err = i.sources.active(ctx); err != nil {
			return nil, err
		}
	}
	return inhibit.NewIndex(i.rules, sources), nil
}

// index indexes active as inhibition sources.
func (i *inhibitor) index(active []Record) *inhibit.Index {
	var sources []inhibit.Active
	if len(i.rules) > 0 {
		for _, a := range active {
			sources = append(sources, inhibit.Active{Fingerprint: a.Fingerprint, Labels: a.Alert.Labels})
		}
	}
	return inhibit.NewIndex(i.rules, sources)
}

func inhibitedBy(idx *inhibit.Index, r *Record) []string {
	if by, ok := idx.Inhibitor(r.Fingerprint, r.Alert.Labels); ok {
		return []string{by}
	}
	return nil
}

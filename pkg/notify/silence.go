package notify

import (
	"context"
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/silence"
)

// silencer is the silence stage: an alert that an active silence matches
// pages nobody. Resolutions pass: whoever was told of the firing hears of
// its end.
type silencer struct {
	silences *silence.Silences
	clock    clockwork.Clock
	m        *metrics
}

func (s *silencer) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	if d.rec.Status == StatusResolved {
		return d, nil
	}
	by, err := s.by(ctx, d)
	if err != nil || len(by) == 0 {
		return d, err
	}
	if d.moved {
		s.m.silenced.WithLabelValues(d.rec.Alert.Name()).Inc()
	}
	return nil, nil
}

// by returns the silences muting d's alert, reading them unless the
// delivery carries them.
func (s *silencer) by(ctx context.Context, d *delivery) ([]string, error) {
	if d.silences == nil {
		set, err := s.active(ctx)
		if err != nil {
			return nil, err
		}
		d.silences = set
	}
	return d.silences.Muting(d.rec.Alert.Labels), nil
}

// active reads the silences active now.
func (s *silencer) active(ctx context.Context) (*silence.Set, error) {
	all, err := s.silences.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	return silence.ActiveAt(all, s.clock.Now()), nil
}

package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// StreamConfig is the configuration EnsureStreams applies to the stream of
// kind k: limits retention (several consumers may read the same message),
// file storage, Options' replicas, max age and duplicate window.
func (b *Bus) StreamConfig(k Kind) jetstream.StreamConfig {
	return b.streamConfig(b.Stream(k), "govwatch "+string(k)+" messages", StreamSubjects(b.opts.Prefix, k))
}

// streamConfig is the settings every govwatch stream shares.
func (b *Bus) streamConfig(name, description, subjects string) jetstream.StreamConfig {
	maxBytes := b.opts.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1 // JetStream's "no limit"
	}
	return jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    []string{subjects},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		Replicas:    b.opts.Replicas,
		MaxAge:      b.opts.MaxAge,
		MaxBytes:    maxBytes,
		Duplicates:  b.opts.DuplicateWindow,
	}
}

// EnsureStreams creates the four streams and the dead-letter stream or updates them to the current
// Options; running it again, from any number of processes, is harmless.
// Open calls it, so a process started with a new MaxAge updates the streams.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, k := range kinds {
		cfg := b.StreamConfig(k)
		s, err := b.js.CreateOrUpdateStream(ctx, cfg)
		if err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
		info := s.CachedInfo()
		b.log.Debug("stream ensured", zap.String("stream", cfg.Name),
			zap.Uint64("messages", info.State.Msgs), zap.Duration("max_age", info.Config.MaxAge))
	}
	dl := b.DeadLetterStreamConfig()
	if _, err := b.js.CreateOrUpdateStream(ctx, dl); err != nil {
		return fmt.Errorf("ensure stream %s: %w", dl.Name, err)
	}
	return nil
}

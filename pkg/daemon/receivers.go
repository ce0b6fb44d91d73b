package daemon

import (
	"fmt"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// ReceiverChannels builds the channels of receiver rc from their decoded
// sections, each by the channel that owns it; the channels read their
// secrets here. The notifier and `govwatch notify test` build receivers
// with it.
func ReceiverChannels(rc config.ReceiverConfig, deps channel.Deps) ([]channel.Channel, error) {
	chans := make([]channel.Channel, 0, len(rc.Channels))
	for _, pc := range rc.Channels {
		ch, err := channel.New(pc.Name, pc.Config, deps)
		if err != nil {
			return nil, fmt.Errorf("receiver %s: %w", rc.Name, err)
		}
		chans = append(chans, ch)
	}
	return chans, nil
}

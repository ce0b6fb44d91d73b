package daemon

import (
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	"github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
	"github.com/govwatch/govwatch/pkg/analyze/detect/followers"
	"github.com/govwatch/govwatch/pkg/analyze/detect/negative"
	"github.com/govwatch/govwatch/pkg/analyze/detect/spike"
)

// opinionDetectors builds the enabled opinion, engagement and consistency
// detectors of analyzer.opinion.
func (e *env) opinionDetectors() (posts []detect.PostDetector, snaps []detect.SnapshotDetector, sweeps []detect.Sweeper, err error) {
	oc := e.cfg.Analyzer.Opinion
	if oc.Spike.Enabled {
		d := withTexts(e.texts, "spike", spike.New(oc.Spike))
		posts, sweeps = append(posts, d), append(sweeps, d)
	}
	if c := oc.Negative; c.Enabled {
		c.Lexicon = e.cfg.Resolve(c.Lexicon)
		d, err := negative.New(c)
		if err != nil {
			return nil, nil, nil, err
		}
		posts = append(posts, withTexts(e.texts, "negative", d))
	}
	if c := oc.Emergency; c.Enabled {
		c.Lexicon = e.cfg.Resolve(c.Lexicon)
		d, err := emergency.New(c)
		if err != nil {
			return nil, nil, nil, err
		}
		d = withTexts(e.texts, "emergency", d)
		posts, sweeps = append(posts, d), append(sweeps, d)
	}
	if oc.BoughtFollowers.Enabled {
		d := withTexts(e.texts, "followers", followers.New(oc.BoughtFollowers))
		posts, snaps = append(posts, d), append(snaps, d)
	}
	if oc.CrossPlatform.Enabled {
		posts = append(posts, withTexts(e.texts, "crossplatform", crossplatform.New(oc.CrossPlatform)))
	}
	return posts, snaps, sweeps, nil
}

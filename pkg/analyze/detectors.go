package analyze

import (
	"fmt"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/config"
)

// DetectorSet is the analyzer's detectors, sorted by what each consumes; a
// detector that consumes several kinds is in each of their lists.
type DetectorSet struct {
	Posts     []detect.PostDetector
	Snapshots []detect.SnapshotDetector
	Probes    []detect.ProbeDetector
	Sweepers  []detect.Sweeper
}

// Detectors builds the enabled detectors of cfgs (config.Loaded's
// Detectors) with detect.New, in their order, each with its texts and
// deps. The daemon and `govwatch replay` build theirs here, so both run
// what the configuration says the same way.
func Detectors(cfgs []config.DetectorConfig, deps detect.Deps) (DetectorSet, error) {
	var s DetectorSet
	for _, dc := range cfgs {
		if !dc.Enabled {
			continue
		}
		d := deps
		d.Texts = dc.Texts
		if d.Log != nil {
			d.Log = d.Log.Named(dc.Name)
		}
		det, err := detect.New(dc.Name, dc.Config, d)
		if err != nil {
			return DetectorSet{}, err
		}
		used := false
		if p, ok := det.(detect.PostDetector); ok {
			s.Posts, used = append(s.Posts, p), true
		}
		if p, ok := det.(detect.SnapshotDetector); ok {
			s.Snapshots, used = append(s.Snapshots, p), true
		}
		if p, ok := det.(detect.ProbeDetector); ok {
			s.Probes, used = append(s.Probes, p), true
		}
		if p, ok := det.(detect.Sweeper); ok {
			s.Sweepers, used = append(s.Sweepers, p), true
		}
		if !used {
			return DetectorSet{}, fmt.Errorf("detector %s consumes nothing: it is none of PostDetector, SnapshotDetector, ProbeDetector or Sweeper", dc.Name)
		}
	}
	return s, nil
}

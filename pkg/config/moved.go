package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
)

// The analyzer's detector settings moved to analyzer.detectors.<name>; a
// file still using the old keys is refused with a problem at each of them
// saying where it went, rather than a bare "unknown key".

// movedOpinion and movedAccountChecks map the sections of the old keys to
// their detectors.
var (
	movedOpinion = map[string]string{
		"spike": "spike", "negative": "negative", "emergency": "emergency",
		"bought_followers": "followers", "cross_platform": "crossplatform",
	}
	movedAccountChecks = map[string]string{
		"staleness": "staleness", "unanswered": "unanswered", "profile": "profile",
		"duplicate": "duplicate", "unavailable": "unavailable",
	}
)

const detectorsPath = "analyzer.detectors"

// movedKeys reports the old keys a file still uses.
func (a *AnalyzerConfig) movedKeys(d *conf.Decoder) {
	if !a.MovedStaleAfter.IsZero() {
		d.Problem("analyzer.stale_after", "moved to %s.staleness.stale_after", detectorsPath)
	}
	movedSections(d, "analyzer.opinion", a.MovedOpinion, movedOpinion)
	movedSections(d, "analyzer.account_checks", a.MovedAccountChecks, movedAccountChecks)
	if s := a.MovedTexts; !s.IsZero() {
		if len(s.Keys()) == 0 {
			d.Problem("analyzer.texts", "moved: each detector's texts are now %s.<detector>.texts", detectorsPath)
		}
		for _, name := range s.Keys() {
			d.Problem(conf.Join("analyzer.texts", name), "moved to %s.%s.texts", detectorsPath, name)
		}
	}
}

// movedSections reports each section of an old key at its own line.
func movedSections(d *conf.Decoder, path string, s conf.Section, to map[string]string) {
	if s.IsZero() {
		return
	}
	if len(s.Keys()) == 0 {
		d.Problem(path, "moved: its sections are now under %s", detectorsPath)
	}
	for _, name := range s.Keys() {
		p := conf.Join(path, name)
		det, ok := to[name]
		if !ok {
			d.Problem(p, "moved: the sections of %s are now under %s", path, detectorsPath)
			continue
		}
		d.Problem(p, "moved to %s.%s", detectorsPath, det)
	}
}

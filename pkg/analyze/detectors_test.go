package analyze_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	"github.com/govwatch/govwatch/pkg/config"
)

func names[D interface{ Name() string }](ds []D) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name())
	}
	return out
}

// The configuration decides which detectors run; each is listed for every
// kind of input it consumes. A detector turned off is neither validated
// nor built.
func TestDetectorsFromConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "govwatch.yaml")
	body := "analyzer:\n  detectors:\n    spike: {enabled: false, alpha: 7}\n    duplicate: {enabled: false}\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := analyze.Detectors(cfg.Detectors, detect.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind string
		got  []string
		want []string
	}{
		{"posts", names(ds.Posts), []string{"content", "crossplatform", "emergency", "followers", "links", "negative", "staleness", "unanswered"}},
		{"snapshots", names(ds.Snapshots), []string{"followers", "profile"}},
		{"probes", names(ds.Probes), []string{"unavailable"}},
		{"sweepers", names(ds.Sweepers), []string{"emergency", "profile", "staleness", "unanswered", "unavailable"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.kind, tc.got, tc.want)
		}
	}
}

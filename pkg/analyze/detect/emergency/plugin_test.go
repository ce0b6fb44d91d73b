package emergency_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    emergency:
      window: 30s
      table_size: 100000
`,
		`govwatch.yaml:5: analyzer.detectors.emergency.window: must be at least 1m, not 30s`,
		`govwatch.yaml:6: analyzer.detectors.emergency.table_size: must be 16 to 4096, not 100000`,
	)
}

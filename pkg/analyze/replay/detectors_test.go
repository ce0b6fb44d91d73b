package replay

// The built-in detectors, which `govwatch replay` runs (pkg/cli brings
// them in for the command).
import _ "github.com/govwatch/govwatch/pkg/analyze/detect/all"

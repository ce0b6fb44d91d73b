package deployments

// The built-in detectors, whose sections the deployments' configs hold
// (the commands bring them in through pkg/cli).
import _ "github.com/govwatch/govwatch/pkg/analyze/detect/all"

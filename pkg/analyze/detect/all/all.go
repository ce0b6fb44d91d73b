// Package all is the set of built-in detectors: importing it registers
// each one (pkg/plugin). Adding a detector adds one line here.
package all

import (
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/content"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/emergency"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/followers"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/links"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/negative"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/profile"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/spike"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/unanswered"
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
)

package daemon

// The built-in plugins of every kind: the daemons run these, and the
// configuration they check and the reference they print know them.
import (
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/all"
)

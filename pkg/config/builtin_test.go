package config

// The tests of this package load files naming the built-in plugins, as
// the daemons do.
import (
	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/all"
)

package config

import (
	"context"
	"path/filepath"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// LoadRegistry reads a registry file (RegistryFile format) on its own, with
// the checks a configuration naming it gets under the default settings. The
// error, when not nil, is a Problems with file:line.
func LoadRegistry(path string) (*registry.Registry, error) {
	cfg := Default()
	cfg.Registry.File = path
	d := conf.NewDecoder(path, filepath.Dir(path))
	cfg.Collector.SourceSettings = decodeSettings(d, plugin.Source, "collector.sources", nil)
	reg, used, rprobs := cfg.buildRegistry(context.Background(), d)
	validateSettings(d, plugin.Source, "collector.sources", cfg.Collector.SourceSettings, reg, used)
	probs := append(d.Problems(), rprobs...)
	if len(probs) > 0 {
		return nil, probs.Sorted()
	}
	return reg, nil
}

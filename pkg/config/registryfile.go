package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/registry"
)

// LoadRegistry reads a registry file (RegistryFile format) on its own, with
// the checks a configuration naming it gets under the default settings. The
// error, when not nil, is a Problems with file:line.
func LoadRegistry(path string) (*registry.Registry, error) {
	cfg := Default()
	cfg.Registry.File = path
	reg, probs := cfg.buildRegistry(conf.NewPositions(path))
	if len(probs) > 0 {
		return nil, probs.Sorted()
	}
	return reg, nil
}

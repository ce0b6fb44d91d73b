package daemon

import (
	"io"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// TestOpenAPIListenRefused: -listen on every interface with no notifier
// token stops the daemon before it listens, whichever component set serves
// the API.
func TestOpenAPIListenRefused(t *testing.T) {
	cfg := loadConfig(t, t.TempDir(), map[string]string{"govwatch.yaml": `
store: {backend: embedded}
registry:
  units: [{id: fz, name: 福州}]
notifier:
  receivers: [{name: c, console: {}}]
  route: {receiver: c}
`})
	for _, comps := range [][]string{All, {Notifier}} {
		err := Run(t.Context(), Options{Config: cfg, Components: comps, Listen: "0.0.0.0:0", Log: zap.NewNop(), Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "the notifier's API has no token and would be open") {
			t.Errorf("Run(%v) on 0.0.0.0 = %v, want the open API refused", comps, err)
		}
	}
}

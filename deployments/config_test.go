package deployments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/govwatch/govwatch/pkg/bus"
	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGovwatchConfigs loads the config files the deployments ship, with
// their registries, as the daemons will.
func TestGovwatchConfigs(t *testing.T) {
	tests := []struct {
		path         string
		replicas     int
		backend      string
		wantAccounts int
		secrets      []string // secret files the config names, mounted in production
	}{
		{"govwatch/govwatch.yaml", 1, "redis", 6, []string{"/run/secrets/admin-token"}},
		{"kubernetes/config/govwatch.yaml", 3, "redis", 0, []string{"/run/secrets/govwatch/redis-password", "/run/secrets/govwatch/admin-token"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			path := tc.path
			if len(tc.secrets) > 0 {
				path = withSecrets(t, tc.path, tc.secrets)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if cfg.NATS.Embedded || len(cfg.NATS.URLs) == 0 {
				t.Errorf("got embedded %v, urls %v; want external NATS", cfg.NATS.Embedded, cfg.NATS.URLs)
			}
			if cfg.NATS.StreamReplicas != tc.replicas {
				t.Errorf("got stream_replicas %d, want %d", cfg.NATS.StreamReplicas, tc.replicas)
			}
			if cfg.Store.Backend != tc.backend {
				t.Errorf("got store backend %q, want %q", cfg.Store.Backend, tc.backend)
			}
			if got := len(cfg.Registry.Accounts()); got != tc.wantAccounts {
				t.Errorf("got %d accounts, want %d", got, tc.wantAccounts)
			}
			for name, listen := range map[string]string{"collector": cfg.Collector.Listen, "analyzer": cfg.Analyzer.Listen, "notifier": cfg.Notifier.Listen} {
				want := map[string]string{"collector": ":9101", "analyzer": ":9102", "notifier": ":9103"}[name]
				if listen != want {
					t.Errorf("got %s.listen %q, want %q (the ports Prometheus and the probes use)", name, listen, want)
				}
			}
		})
	}
}

// TestNATSClusterConfig has nats-server read the Kubernetes cluster's config.
func TestNATSClusterConfig(t *testing.T) {
	t.Setenv("POD_NAME", "nats-1")
	o, err := server.ProcessConfigFile("kubernetes/config/nats.conf")
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	if !o.JetStream || o.StoreDir != "/data" {
		t.Errorf("got jetstream %v store %q, want on and /data", o.JetStream, o.StoreDir)
	}
	if o.ServerName != "nats-1" {
		t.Errorf("got server name %q, want the pod name nats-1", o.ServerName)
	}
	if o.Cluster.Name != "govwatch" || len(o.Routes) != 3 {
		t.Errorf("got cluster %q with %d routes, want govwatch with 3", o.Cluster.Name, len(o.Routes))
	}
	// Every server holds every stream (replicas 3 on 3 servers): their
	// caps together must fit its file store, or a full store refuses
	// every publish before any stream drops its oldest messages.
	cfg, err := config.Load(withSecrets(t, "kubernetes/config/govwatch.yaml", []string{"/run/secrets/govwatch/redis-password", "/run/secrets/govwatch/admin-token"}))
	if err != nil {
		t.Fatal(err)
	}
	streams := int64(len(bus.Kinds()) + 1) // and the dead-letter stream
	if per := int64(cfg.NATS.MaxBytes); per <= 0 || streams*per > o.JetStreamMaxStore {
		t.Errorf("%d streams of nats.max_bytes %s on a file store of %d bytes: want a cap that fits", streams, cfg.NATS.MaxBytes, o.JetStreamMaxStore)
	}
}

// withSecrets copies the config at path and its registry into a temporary
// folder, with each secret file it names replaced by a file there.
func withSecrets(t *testing.T, path string, secrets []string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i, s := range secrets {
		if !strings.Contains(text, s) {
			t.Fatalf("%s does not name %s", path, s)
		}
		f := filepath.Join(dir, "secret-"+string(rune('a'+i)))
		if err := os.WriteFile(f, []byte("s3cret-long-enough-for-an-api-token\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, s, f)
	}
	reg, err := os.ReadFile(filepath.Join(filepath.Dir(path), "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "registry.yaml"), reg, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(out, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

package deployments

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestShippedDeploymentsGuardTheAPI: every shipped way to run the daemons
// gives the notifier's API a token from a secret, and keeps its port off
// other hosts (compose: the host's loopback; Kubernetes: a NetworkPolicy).
func TestShippedDeploymentsGuardTheAPI(t *testing.T) {
	var compose struct {
		Govwatch struct {
			Secrets []string `yaml:"secrets"`
		} `yaml:"x-govwatch"`
		Services map[string]struct {
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	readYAML(t, "docker-compose.yml", &compose)
	if !strings.Contains(strings.Join(compose.Govwatch.Secrets, " "), "admin-token") || compose.Secrets["admin-token"].File == "" {
		t.Errorf("compose: the daemons get no admin-token secret: %+v %+v", compose.Govwatch.Secrets, compose.Secrets)
	}
	for _, p := range compose.Services["notifier"].Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("compose: the notifier publishes %q on every interface of the host", p)
		}
	}

	data, err := os.ReadFile("kubernetes/networkpolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	guarded := false
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var np struct {
			Spec struct {
				PodSelector struct {
					MatchLabels map[string]string `yaml:"matchLabels"`
				} `yaml:"podSelector"`
				Ingress []struct {
					Ports []struct {
						Port int `yaml:"port"`
					} `yaml:"ports"`
				} `yaml:"ingress"`
			} `yaml:"spec"`
		}
		if dec.Decode(&np) != nil {
			break
		}
		if np.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] == "notifier" && len(np.Spec.Ingress) > 0 {
			guarded = true
		}
	}
	if !guarded {
		t.Error("kubernetes: no NetworkPolicy selects the notifier's pods")
	}
	for _, f := range []string{"collector", "analyzer", "notifier"} {
		b, err := os.ReadFile("kubernetes/" + f + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "name: govwatch-api") {
			t.Errorf("kubernetes/%s.yaml mounts no govwatch-api secret, but the config it reads names the admin token", f)
		}
	}
	for _, f := range []string{"govwatch/govwatch.yaml", "kubernetes/config/govwatch.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "admin_token_file:") {
			t.Errorf("%s gives the notifier's API no token", f)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

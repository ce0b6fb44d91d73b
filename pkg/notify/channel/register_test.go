package channel

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// secretsConfig is the config of a channel with a required token and an
// optional signing secret.
type secretsConfig struct {
	TokenFile  conf.File `yaml:"token_file"`
	TokenEnv   conf.Env  `yaml:"token_env"`
	SecretFile conf.File `yaml:"secret_file"`
	SecretEnv  conf.Env  `yaml:"secret_env"`
}

// secretsChannel keeps what its New was given.
type secretsChannel struct {
	token, secret []byte
	deps          Deps
}

func (*secretsChannel) Name() string                                { return "secrets_test" }
func (*secretsChannel) Notify(context.Context, *Notification) error { return nil }

func init() {
	Register(Plugin[secretsConfig]{
		Name: "secrets_test",
		Secrets: func(c *secretsConfig) []Secret {
			return []Secret{
				{Key: "token", File: c.TokenFile, Env: c.TokenEnv, Required: "bot token"},
				{Key: "secret", File: c.SecretFile, Env: c.SecretEnv},
			}
		},
		New: func(c *secretsConfig, d Deps) (Channel, error) {
			return &secretsChannel{token: d.Secret("token"), secret: d.Secret("secret"), deps: d}, nil
		},
	})
}

func TestSecretsAreReadBeforeNew(t *testing.T) {
	const token, secret = "tok-3f9a0c", "SECd41d8cd98f00b204"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GW_TEST_SIGNING_SECRET", secret)
	tests := []struct {
		name              string
		cfg               secretsConfig
		token, secret     string
		wantErr, notInErr string
	}{
		{name: "file, newline trimmed", cfg: secretsConfig{TokenFile: conf.File(file)}, token: token},
		{name: "variable", cfg: secretsConfig{TokenFile: conf.File(file), SecretEnv: "GW_TEST_SIGNING_SECRET"}, token: token, secret: secret},
		{name: "file wins", cfg: secretsConfig{TokenFile: conf.File(file), TokenEnv: "GW_TEST_SIGNING_SECRET"}, token: token},
		{name: "unset variable", cfg: secretsConfig{TokenEnv: "GW_TEST_SURELY_UNSET"},
			wantErr: "secrets_test: secret: environment variable GW_TEST_SURELY_UNSET is not set"},
		{name: "unreadable file", cfg: secretsConfig{TokenFile: conf.File(file), SecretFile: conf.File(file + ".missing")},
			wantErr: "secrets_test: read secret: ", notInErr: token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			ch, err := New("secrets_test", &cfg, Deps{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if tt.notInErr != "" && strings.Contains(err.Error(), tt.notInErr) {
					t.Errorf("error %q leaks %q", err, tt.notInErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ch.(*secretsChannel)
			if string(got.token) != tt.token || string(got.secret) != tt.secret {
				t.Errorf("got token %q and secret %q, want %q and %q", got.token, got.secret, tt.token, tt.secret)
			}
			if tt.secret != "" {
				if printed := fmt.Sprintf("%+v %#v", got.deps, got.deps); strings.Contains(printed, tt.secret) || strings.Contains(printed, fmt.Sprint([]byte(tt.secret))) {
					t.Errorf("printing Deps shows the secret: %s", printed)
				}
			}
		})
	}
}

func TestRequiredSecretIsAProblem(t *testing.T) {
	spec, ok := plugin.Lookup(plugin.Channel, "secrets_test")
	if !ok {
		t.Fatal("secrets_test is not registered")
	}
	tests := []struct {
		name string
		cfg  secretsConfig
		want string // the one problem; empty: none
	}{
		{"neither key", secretsConfig{SecretEnv: "X"}, "r.secrets_test.token_file: no bot token: set token_file or token_env"},
		{"a file", secretsConfig{TokenFile: "token"}, ""},
		{"a variable", secretsConfig{TokenEnv: "X"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs conf.Problems
			spec.Validate(&tt.cfg, &plugin.Check{Report: conf.NewReport(nil, "r.secrets_test", &probs)})
			got := fmt.Sprint(probs)
			if tt.want == "" && len(probs) != 0 || tt.want != "" && (len(probs) != 1 || !strings.Contains(got, tt.want)) {
				t.Errorf("got problems %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUndeclaredSecretPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"password"`) {
			t.Errorf("got panic %v, want one naming the undeclared key", r)
		}
	}()
	Deps{}.Secret("password")
}

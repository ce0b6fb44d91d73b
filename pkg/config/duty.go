package config

import (
	"errors"
	"fmt"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/registry"
)

// MinTokenLen is the shortest API token accepted, 32 characters (128 bits
// as hex, 192 as base64): a bearer token is a password that anyone
// reaching the port may try.
const MinTokenLen = 32

// validateDuty checks what the notifier reads beside the file at start-up:
// the secrets' lengths, the API tokens' units and the roster, so that
// `govwatch config check` refuses whatever the notifier would. reg is nil
// while the registry has problems of its own; the checks against it wait.
func (c *Config) validateDuty(pos *conf.Positions, reg *registry.Registry) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	n := c.Notifier
	// secret reads a secret whose file and variable the decoding already
	// judged present; a failure here was reported there.
	secret := func(file, env string) []byte {
		b, err := c.Secret(file, env)
		if err != nil {
			return nil
		}
		return b
	}
	secretKey := func(base, file string) string {
		if file != "" {
			return base + "_file"
		}
		return base + "_env"
	}
	if key := secret(n.Ack.KeyFile, n.Ack.KeyEnv); key != nil && len(key) < ack.MinKeyLen {
		bad("notifier.ack."+secretKey("key", n.Ack.KeyFile), "the signing key has %d bytes, want at least %d", len(key), ack.MinKeyLen)
	}
	if key := secret(n.Ack.PreviousKeyFile, n.Ack.PreviousKeyEnv); key != nil && len(key) < ack.MinKeyLen {
		bad("notifier.ack."+secretKey("previous_key", n.Ack.PreviousKeyFile), "the previous signing key has %d bytes, want at least %d", len(key), ack.MinKeyLen)
	}
	if tok := secret(n.API.AdminTokenFile, n.API.AdminTokenEnv); tok != nil && len(tok) < MinTokenLen {
		bad("notifier.api."+secretKey("admin_token", n.API.AdminTokenFile), "the admin token has %d bytes, want at least %d", len(tok), MinTokenLen)
	}
	for i, t := range n.API.Tokens {
		p := fmt.Sprintf("notifier.api.tokens[%d]", i)
		if t.Unit != "" && reg != nil {
			if _, ok := reg.Unit(t.Unit); !ok {
				bad(p+".unit", "unknown unit %q", t.Unit)
			}
		}
		if tok := secret(t.TokenFile, t.TokenEnv); tok != nil && len(tok) < MinTokenLen {
			bad(p+"."+secretKey("token", t.TokenFile), "the token of %s has %d bytes, want at least %d", t.Unit, len(tok), MinTokenLen)
		}
	}
	for i, t := range n.API.CheckTokens {
		if tok := secret(t.TokenFile, t.TokenEnv); tok != nil && len(tok) < MinTokenLen {
			bad(fmt.Sprintf("notifier.api.check_tokens[%d].", i)+secretKey("token", t.TokenFile), "the check token %q has %d bytes, want at least %d", t.Name, len(tok), MinTokenLen)
		}
	}
	if n.Roster != "" && reg != nil {
		_, err := roster.Load(c.Resolve(n.Roster), func(u string) bool {
			_, ok := reg.Unit(u)
			return ok
		})
		var rps conf.Problems
		switch {
		case errors.As(err, &rps):
			ps = append(ps, rps...) // each at its line of the roster file
		case err != nil:
			bad("notifier.roster", "%v", err)
		}
	}
	return ps
}

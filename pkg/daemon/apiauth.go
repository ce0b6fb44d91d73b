package daemon

import (
	"fmt"

	"github.com/govwatch/govwatch/pkg/notify"
)

// apiAuth builds the API's bearer tokens from notifier.api: the admin's,
// the units' and the editors' check tokens. The notifier guards its API
// with them and the analyzer its draft check (POST /api/v1/check); nil
// when none is configured. config.Load checked the units and lengths.
func (e *env) apiAuth() (*notify.Auth, error) {
	ac := e.cfg.Notifier.API
	var tokens []notify.Token
	admin, err := e.cfg.Secret(ac.AdminTokenFile, ac.AdminTokenEnv)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if len(admin) > 0 {
		tokens = append(tokens, notify.Token{Secret: admin})
	}
	for _, tc := range ac.Tokens {
		tok, err := e.cfg.Secret(tc.TokenFile, tc.TokenEnv)
		if err != nil {
			return nil, fmt.Errorf("api token of %s: %w", tc.Unit, err)
		}
		tokens = append(tokens, notify.Token{Unit: tc.Unit, Secret: tok})
	}
	for _, tc := range ac.CheckTokens {
		tok, err := e.cfg.Secret(tc.TokenFile, tc.TokenEnv)
		if err != nil {
			return nil, fmt.Errorf("check token %q: %w", tc.Name, err)
		}
		tokens = append(tokens, notify.Token{Check: true, Secret: tok})
	}
	return notify.NewAuth(tokens, e.cfg.Registry), nil
}

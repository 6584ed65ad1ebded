package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCallers(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(keys, nil, 0o600))
	jwt := map[string]string{"AUTH_JWKS_URL": "https://idp.example/certs", "AUTH_ISSUER": "https://idp.example", "AUTH_AUDIENCE": "gw"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	prod := map[string]string{"GATEWAY_ENV": "production", "COVAGE_API_URL": "https://api.example", "COVAGE_API_TOKEN": "t"}
	cases := []struct {
		name     string
		env      map[string]string
		wantMode string
		wantErr  []string
	}{
		{"none by default in development", nil, "none", nil},
		{"JWKS URL implies jwt", jwt, "jwt", nil},
		{"key file implies apikey", map[string]string{"AUTH_API_KEYS_FILE": keys}, "apikey", nil},
		{"both", with(jwt, "AUTH_API_KEYS_FILE", keys), "jwt,apikey", nil},
		{"explicit both", with(jwt, "AUTH_API_KEYS_FILE", keys, "AUTH_MODE", "apikey, jwt"), "jwt,apikey", nil},
		{"http JWKS on loopback", with(jwt, "AUTH_JWKS_URL", "http://127.0.0.1:8081/certs"), "jwt", nil},
		{"http JWKS elsewhere", with(jwt, "AUTH_JWKS_URL", "http://idp.example/certs"), "", []string{"AUTH_JWKS_URL must be https"}},
		{"jwt without issuer and audience", map[string]string{"AUTH_JWKS_URL": "https://idp.example/certs"}, "", []string{"AUTH_ISSUER and AUTH_AUDIENCE"}},
		{"jwt mode without URL", map[string]string{"AUTH_MODE": "jwt", "AUTH_ISSUER": "i", "AUTH_AUDIENCE": "a"}, "", []string{"AUTH_JWKS_URL is not set"}},
		{"none contradicts a URL", with(jwt, "AUTH_MODE", "none"), "", []string{"AUTH_MODE=none contradicts"}},
		{"unknown mode", map[string]string{"AUTH_MODE": "oidc"}, "", []string{"AUTH_MODE"}},
		{"missing key file", map[string]string{"AUTH_API_KEYS_FILE": "/nonexistent/keys"}, "", []string{"AUTH_API_KEYS_FILE"}},
		{"with pass-through", with(jwt, "COVAGE_API_URL", "https://api.example", "COVAGE_CREDENTIALS", "passthrough"), "", []string{"exclude each other"}},
		{"production service mode needs caller auth", prod, "", []string{"needs caller authentication"}},
		{"production service mode, explicitly open", with(prod, "AUTH_MODE", "none"), "none", nil},
		{"production service mode with JWT", with(prod, "AUTH_JWKS_URL", jwt["AUTH_JWKS_URL"], "AUTH_ISSUER", "i", "AUTH_AUDIENCE", "a"), "jwt", nil},
		{"production pass-through leaves callers to Covage", map[string]string{"GATEWAY_ENV": "production", "COVAGE_API_URL": "https://api.example", "COVAGE_CREDENTIALS": "passthrough"}, "none", nil},
		{"production without Covage URL", map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"}, "", []string{"GATEWAY_ENV=production needs COVAGE_API_URL"}},
		{"production pprof without admin port", with(prod, "AUTH_MODE", "none", "PPROF", "true"), "", []string{"PPROF=true in production needs ADMIN_PORT"}},
		{"production pprof on the admin port", with(prod, "AUTH_MODE", "none", "PPROF", "true", "ADMIN_PORT", "9090"), "none", nil},
		{"admin port equal to port", map[string]string{"ADMIN_PORT": "8080"}, "", []string{"ADMIN_PORT must differ"}},
		{"bad proxies", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, nonsense"}, "", []string{"TRUSTED_PROXIES"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantMode, c.Callers.Mode())
		})
	}
}

func TestOperationsSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32", "ADMIN_PORT": "9090", "SHUTDOWN_DELAY": "2s"}))
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
	}, c.Callers.TrustedProxies)
	require.Equal(t, 9090, c.AdminPort)
	require.Equal(t, 2*time.Second, c.ShutdownDelay)

	d, err := Load(env(nil))
	require.NoError(t, err)
	require.Zero(t, d.AdminPort, "no admin port by default")
	require.Empty(t, d.Callers.TrustedProxies, "no trusted proxy by default")
	require.Equal(t, 5*time.Second, d.ShutdownDelay)
}

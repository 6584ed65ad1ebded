package gateway_test

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/auth"
	"github.com/covage/gateway/internal/auth/authtest"
	"github.com/covage/gateway/internal/gateway"
)

// newAuthenticator accepts the provider's tokens and the given API keys.
func newAuthenticator(t *testing.T, idp *authtest.Provider, scope string, keys map[string]string) *auth.Authenticator {
	t.Helper()
	cfg := auth.Config{RequiredScope: scope}
	if idp != nil {
		cfg.JWKSURL, cfg.Issuer, cfg.Audience = idp.URL(), authtest.Issuer, authtest.Audience
	}
	if keys != nil {
		cfg.APIKeysFile = authtest.KeyFile(t, keys)
	}
	a, err := auth.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

// TestCallerAuthentication checks that every refused credential gets its
// status, code and challenge before any upstream call, and that accepted
// ones are served.
func TestCallerAuthentication(t *testing.T) {
	idp := authtest.NewProvider(t)
	a := newAuthenticator(t, idp, "covage.read", map[string]string{"key-billing": "billing"})
	e := newEnv(t, withSecurity(gateway.Security{Authenticator: a}))

	valid := idp.Token(t, "alice", 5*time.Minute, map[string]any{"scope": "openid covage.read"})
	tests := []struct {
		name       string
		header     map[string]string
		wantStatus int
		wantCode   string
	}{
		{"no credential", nil, 401, graph.CodeUnauthenticated},
		{"made-up token", map[string]string{"Authorization": "Bearer made-up"}, 401, graph.CodeUnauthenticated},
		{"expired token", map[string]string{"Authorization": "Bearer " + idp.Token(t, "alice", -5*time.Minute, map[string]any{"scope": "covage.read"})}, 401, graph.CodeUnauthenticated},
		{"token without the scope", map[string]string{"Authorization": "Bearer " + idp.Token(t, "alice", 5*time.Minute, nil)}, 403, gateway.CodeForbidden},
		{"wrong API key", map[string]string{"X-API-Key": "key-guessed"}, 401, graph.CodeUnauthenticated},
		{"bad API key with a good token", map[string]string{"X-API-Key": "key-guessed", "Authorization": "Bearer " + valid}, 401, graph.CodeUnauthenticated},
		{"valid token", map[string]string{"Authorization": "Bearer " + valid}, 200, ""},
		{"valid API key", map[string]string{"X-API-Key": "key-billing"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, "{ projects { code } }", nil)
			r.header = map[string]string{"Content-Type": "application/json"}
			for k, v := range tt.header {
				r.header[k] = v
			}
			a := e.send(t, r)
			require.Equal(t, tt.wantStatus, a.status, a.body)
			calls := e.upstream()
			if tt.wantStatus != 200 {
				require.Empty(t, calls, "refused before any upstream call")
				require.Equal(t, tt.wantCode, a.errors[0].Extensions["code"])
				require.Contains(t, a.header.Get("WWW-Authenticate"), "Bearer")
				require.Equal(t, "null", string(a.data))
				return
			}
			require.Empty(t, a.errors, a.body)
			require.NotEmpty(t, calls)
		})
	}
	require.NotContains(t, e.log.String(), "key-billing")
	require.NotContains(t, e.log.String(), valid)

	pre := e.send(t, request{method: http.MethodOptions, header: map[string]string{"Origin": "https://app.example.com"}})
	require.NotEqual(t, 401, pre.status, "a preflight carries no credential and is not refused")
}

// TestRateLimitCannotBeDodged is the reproduction: with a rate of
// 1 and a burst of 1, five requests with five made-up Authorization headers
// get one 200 and four 429s. The buckets' clock is frozen, so no refill
// can happen between requests on a slow machine.
func TestRateLimitCannotBeDodged(t *testing.T) {
	frozen := time.Now()
	limit := gateway.RateLimit{RPS: 1, Burst: 1, Now: func() time.Time { return frozen }}
	statuses := func(e *env, header func(i int) map[string]string) map[int]int {
		got := map[int]int{}
		for i := range 5 {
			r := post(t, "{ __typename }", nil)
			r.header = map[string]string{"Content-Type": "application/json"}
			for k, v := range header(i) {
				r.header[k] = v
			}
			got[e.send(t, r).status]++
		}
		return got
	}
	fake := func(i int) map[string]string {
		return map[string]string{"Authorization": "Bearer made-up-" + string(rune('a'+i))}
	}

	t.Run("service mode without caller auth", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{RateLimit: limit}))
		require.Equal(t, map[int]int{200: 1, 429: 4}, statuses(e, fake))
	})
	t.Run("pass-through", func(t *testing.T) {
		e := newEnv(t, withPassThrough(), withSecurity(gateway.Security{RateLimit: limit}))
		got := statuses(e, fake)
		require.Equal(t, 4, got[429], "made-up tokens share the address's budget: %v", got)
	})
	t.Run("refused credentials spend the address's budget", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{RateLimit: limit, Authenticator: newAuthenticator(t, authtest.NewProvider(t), "", nil)}))
		require.Equal(t, map[int]int{401: 1, 429: 4}, statuses(e, fake))
	})
	t.Run("authenticated callers have budgets of their own", func(t *testing.T) {
		keys := map[string]string{"k0": "a", "k1": "b", "k2": "c", "k3": "d", "k4": "e"}
		e := newEnv(t, withSecurity(gateway.Security{RateLimit: limit, Authenticator: newAuthenticator(t, nil, "", keys)}))
		require.Equal(t, map[int]int{200: 5}, statuses(e, func(i int) map[string]string {
			return map[string]string{"X-API-Key": "k" + string(rune('0'+i))}
		}))
		require.Equal(t, map[int]int{429: 5}, statuses(e, func(i int) map[string]string {
			return map[string]string{"X-API-Key": "k" + string(rune('0'+i))}
		}), "each caller's budget is spent")
	})
	xff := func(i int) map[string]string {
		return map[string]string{"X-Forwarded-For": "198.51.100." + string(rune('1'+i))}
	}
	t.Run("forwarded addresses from an untrusted peer are ignored", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{RateLimit: limit}))
		require.Equal(t, map[int]int{200: 1, 429: 4}, statuses(e, xff))
	})
	t.Run("forwarded addresses from a trusted proxy name the client", func(t *testing.T) {
		trusted := limit
		e := newEnv(t, withSecurity(gateway.Security{RateLimit: trusted, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}))
		require.Equal(t, map[int]int{200: 5}, statuses(e, xff))
		require.Equal(t, map[int]int{429: 5}, statuses(e, xff))
	})
}

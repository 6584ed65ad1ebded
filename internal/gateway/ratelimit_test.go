package gateway_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestRateLimit checks the per-client token bucket: a client past its burst
// gets 429 with Retry-After, other clients are not affected, and a client
// is its address unless it authenticates, so made-up credentials buy
// nothing (ratelimit_test.go has the authenticated and proxied cases).
func TestRateLimit(t *testing.T) {
	e := newEnv(t, withSecurity(gateway.Security{RateLimit: gateway.RateLimit{RPS: 0.01, Burst: 2}}))
	as := func(auth string) answer {
		r := post(t, "{ __typename }", nil)
		r.header = map[string]string{"Content-Type": "application/json"}
		if auth != "" {
			r.header["Authorization"] = auth
		}
		return e.send(t, r)
	}
	const alice, bob = "Bearer alice-secret-token", "Bearer bob-secret-token"
	require.Equal(t, 200, as(alice).status)
	require.Equal(t, 200, as("").status)
	a := as(bob)
	require.Equal(t, http.StatusTooManyRequests, a.status, "another unchecked credential is the same client: "+a.body)
	require.Equal(t, gateway.CodeTooManyRequests, a.errors[0].Extensions["code"])
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, secs, 0)
	require.NotContains(t, a.body, "bob-secret-token")
	require.NotContains(t, e.log.String(), "secret-token")

	off := newEnv(t)
	for range 20 {
		require.Equal(t, 200, off.send(t, post(t, "{ __typename }", nil)).status, "no rate limit by default")
	}
}

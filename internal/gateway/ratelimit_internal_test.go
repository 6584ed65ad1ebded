package gateway

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRateLimiterBounded checks the per-client map forgets the least
// recently seen clients, so hostile traffic cannot grow it.
func TestRateLimiterBounded(t *testing.T) {
	l := newLocalLimiter(RateLimit{RPS: 1, Burst: 1, Clients: 3})
	for i := range 100 {
		ok, _, err := l.Allow(context.Background(), "address:10.0.0."+strconv.Itoa(i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, 3, l.clients.Len())
	require.True(t, l.clients.Contains("address:10.0.0.99"))
}

// TestRateLimitKey checks that an unauthenticated client is keyed by its
// address alone: no Authorization header it makes up changes the key.
func TestRateLimitKey(t *testing.T) {
	l := newRateLimiter(RateLimit{RPS: 1}, clientAddress{}, nil)
	r := httptest.NewRequest("POST", "/query", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	require.Equal(t, "address:192.0.2.7", l.key(r))
	r.Header.Set("Authorization", "Bearer made-up")
	require.Equal(t, "address:192.0.2.7", l.key(r))
	r.RemoteAddr = "[2001:db8:1:2:3:4:5:6]:443"
	require.Equal(t, "address:2001:db8:1:2::/64", l.key(r), "IPv6 clients are keyed by their /64")
}

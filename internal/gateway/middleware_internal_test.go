package gateway

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRateLimiterBounded checks the per-client map forgets the least
// recently seen clients, so hostile traffic cannot grow it.
func TestRateLimiterBounded(t *testing.T) {
	l := newRateLimiter(RateLimit{RPS: 1, Burst: 1, Clients: 3})
	for i := range 100 {
		l.limiter("address:10.0.0." + strconv.Itoa(i))
	}
	require.Equal(t, 3, l.clients.Len())
	require.True(t, l.clients.Contains("address:10.0.0.99"))
}

// TestClientKey checks clients are told apart by credential, which is only
// kept hashed, and otherwise by address without the port.
func TestClientKey(t *testing.T) {
	r := httptest.NewRequest("POST", "/query", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	require.Equal(t, "address:192.0.2.7", clientKey(r))
	r.Header.Set("Authorization", "Bearer very-secret")
	k := clientKey(r)
	require.True(t, strings.HasPrefix(k, "credential:"), k)
	require.NotContains(t, k, "very-secret")
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer other")
	require.NotEqual(t, k, clientKey(r2))
}

// TestNegotiate checks the Accept header's parsing.
func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  mediaJSON,
		"application/json":                  mediaJSON,
		"application/graphql-response+json": mediaGraphQLResponse,
		"text/html, */*;q=0.1":              mediaJSON,
		"application/graphql-response+json;q=0, application/json": mediaJSON,
		"text/html":            "",
		"application/json;q=0": "",
	} {
		got, ok := negotiate(accept)
		require.Equal(t, want, got, accept)
		require.Equal(t, want != "", ok, accept)
	}
}

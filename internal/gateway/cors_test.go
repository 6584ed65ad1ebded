package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestCORS checks that only allowlisted origins get CORS headers, and
// credentials, and that preflights are answered.
func TestCORS(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.net"
	preflightFrom := func(origin string) request {
		return request{method: http.MethodOptions, header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		}}
	}
	e := newEnv(t, withSecurity(gateway.Security{CORSAllowedOrigins: []string{allowed}}))
	a := e.send(t, preflightFrom(allowed))
	require.Less(t, a.status, 300)
	require.Equal(t, allowed, a.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", a.header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, strings.ToLower(a.header.Get("Access-Control-Allow-Headers")), "content-type")

	a = e.send(t, preflightFrom(other))
	require.Empty(t, a.header.Get("Access-Control-Allow-Origin"))
	require.Empty(t, a.header.Get("Access-Control-Allow-Credentials"))

	r := post(t, "{ terminateReasons { code } }", nil)
	r.header = map[string]string{"Content-Type": "application/json", "Origin": allowed}
	a = e.send(t, r)
	require.Equal(t, allowed, a.header.Get("Access-Control-Allow-Origin"))

	def := newEnv(t)
	a = def.send(t, preflightFrom(allowed))
	require.Empty(t, a.header.Get("Access-Control-Allow-Origin"), "no origin is allowed by default")
}

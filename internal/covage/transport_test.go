package covage

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNewTransportKeepsThePool checks the settings the gateway and the
// load tools' floor both rely on: as many idle connections kept as may be
// opened, the idle timeout, the trusted roots, HTTP/2 attempted and TLS
// sessions cached.
func TestNewTransportKeepsThePool(t *testing.T) {
	roots := x509.NewCertPool()
	rt := NewTransport(Pool{MaxConnsPerHost: 37, IdleConnTimeout: 42 * time.Second, RootCAs: roots}, nil)
	require.Equal(t, 37, rt.MaxConnsPerHost)
	require.Equal(t, 37, rt.MaxIdleConnsPerHost, "idle connections kept up to the cap, so steady load redials nothing")
	require.Zero(t, rt.MaxIdleConns, "no total idle cap below the per-host one")
	require.Equal(t, 42*time.Second, rt.IdleConnTimeout)
	require.True(t, rt.ForceAttemptHTTP2)
	require.Same(t, roots, rt.TLSClientConfig.RootCAs)
	require.NotNil(t, rt.TLSClientConfig.ClientSessionCache, "new connections resume TLS sessions")
	require.NotNil(t, rt.DialContext)
}

// TestNewTransportDialsThroughTheWrapper checks, against an HTTPS server
// that offers HTTP/2, that the pool speaks HTTP/2, trusts Pool.RootCAs,
// and opens its one connection through wrapDial: the hook the gateway
// counts connections with.
func TestNewTransportDialsThroughTheWrapper(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "[]")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	var dials atomic.Int64
	count := func(dial DialFunc) DialFunc {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dial(ctx, network, addr)
		}
	}
	rt := NewTransport(Pool{MaxConnsPerHost: 2, IdleConnTimeout: time.Minute, RootCAs: roots}, count)
	t.Cleanup(rt.CloseIdleConnections)
	for range 3 {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/referential/terminate_reason/", nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, 2, resp.ProtoMajor, "HTTP/2 when the server offers it")
	}
	require.Equal(t, int64(1), dials.Load(), "three sequential calls share one connection, dialled through the wrapper")
}

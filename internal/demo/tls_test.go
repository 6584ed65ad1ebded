package demo_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

func TestSelfSigned(t *testing.T) {
	cert, err := demo.SelfSigned()
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(cert.PEM))
	leaf, err := x509.ParseCertificate(cert.TLS.Certificate[0])
	require.NoError(t, err)
	for _, tc := range []struct {
		host string
		ok   bool
	}{{"127.0.0.1", true}, {"::1", true}, {"localhost", true}, {"api.covage.com", false}} {
		t.Run(tc.host, func(t *testing.T) {
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: tc.host})
			require.Equal(t, tc.ok, err == nil, err)
		})
	}
}

// TestStartTLS serves the demo over TLS and checks what a client gets: the
// data, HTTP/2, and connections counted (and zeroed by Reset).
func TestStartTLS(t *testing.T) {
	cert, err := demo.SelfSigned()
	require.NoError(t, err)
	s := demo.New(demo.Sample())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base, stop := demo.Start(s, ln, &cert)
	t.Cleanup(func() { require.NoError(t, stop()) })
	require.Regexp(t, `^https://127\.0\.0\.1:\d+$`, base)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cert.PEM)
	for i := range 2 {
		// A transport per round, so each opens a connection of its own.
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
		resp, err := (&http.Client{Transport: tr}).Get(base + "/api/v1/referential/terminate_reason/")
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		tr.CloseIdleConnections()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "HTTP/2.0", resp.Proto)
		require.Equal(t, int64(i+1), s.Connections())
		require.Equal(t, int64(i+1), s.Stats().Connections)
	}
	s.Reset()
	require.Zero(t, s.Connections())
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/telemetry"
)

// serveDemo serves the demo upstream on a loopback port, over TLS and
// HTTP/2 when cert is set, and returns it with its base URL.
func serveDemo(t *testing.T, cert *demo.Certificate, opts ...demo.Option) (*demo.Server, string) {
	t.Helper()
	up := demo.New(demo.Sample(), opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base, stop := demo.Start(up, ln, cert)
	t.Cleanup(func() { require.NoError(t, stop()) })
	return up, base
}

// connectionsCounted reads gateway_upstream_connections_total from m's
// exposition, as Prometheus would.
func connectionsCounted(t *testing.T, m *telemetry.Metrics) int64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	got := regexp.MustCompile(`(?m)^gateway_upstream_connections_total (\d+)$`).FindStringSubmatch(rec.Body.String())
	require.NotNil(t, got, "gateway_upstream_connections_total is exported")
	n, err := strconv.ParseInt(got[1], 10, 64)
	require.NoError(t, err)
	return n
}

// fetchReasons fetches a demo list through rt and reads the answer to its end, as the
// Covage client does, so the connection can go back to the pool.
func fetchReasons(t *testing.T, rt http.RoundTripper, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/api/v1/referential/terminate_reason/", nil)
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp
}

// TestUpstreamPoolReusesConnections proves by counts, not timings, that
// the connections to Covage are bounded by the pool, not by the calls:
// sequential calls share one connection, and 64 calls at once (each held
// 5 ms by the upstream, so they overlap) open no more than the pool. The
// counts are the gateway's own (gateway_upstream_connections_total, which
// only this transport feeds); the upstream saw at least as many, and may
// see more if another test of the package dials a port it reused.
func TestUpstreamPoolReusesConnections(t *testing.T) {
	cert, err := demo.SelfSigned()
	require.NoError(t, err)
	const pool = 4
	for _, tc := range []struct {
		name string
		cert *demo.Certificate
	}{{"http", nil}, {"https h2", &cert}} {
		t.Run(tc.name, func(t *testing.T) {
			up, url := serveDemo(t, tc.cert, demo.WithLatency(5*time.Millisecond))
			cfg := config.Upstream{MaxConnsPerHost: pool, IdleConnTimeout: time.Minute}
			if tc.cert != nil {
				require.NoError(t, cfg.Trust(tc.cert.PEM))
			}
			m := telemetry.NewMetrics(prometheus.NewRegistry(), telemetry.BuildInfo{})
			rt := upstreamTransport(cfg, m)
			t.Cleanup(rt.CloseIdleConnections)

			for range 50 {
				fetchReasons(t, rt, url)
			}
			require.Equal(t, int64(1), connectionsCounted(t, m), "50 sequential calls share one connection")

			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for range 3 {
						fetchReasons(t, rt, url)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int64(50+64*3), up.Total())
			counted := connectionsCounted(t, m)
			require.LessOrEqual(t, counted, int64(pool), "64 concurrent callers open at most the pool's connections")
			require.GreaterOrEqual(t, up.Connections(), counted, "the upstream saw every connection counted")
		})
	}
}

// TestUpstreamTLS checks that against an HTTPS upstream that offers HTTP/2
// the gateway speaks HTTP/2, resumes its TLS session on a new connection
// instead of a full handshake, and trusts a private CA only when told to.
func TestUpstreamTLS(t *testing.T) {
	cert, err := demo.SelfSigned()
	require.NoError(t, err)
	_, url := serveDemo(t, &cert)

	t.Run("untrusted CA is refused", func(t *testing.T) {
		rt := upstreamTransport(config.Upstream{MaxConnsPerHost: 1, IdleConnTimeout: time.Minute}, nil)
		req, err := http.NewRequest(http.MethodGet, url+"/api/v1/referential/terminate_reason/", nil)
		require.NoError(t, err)
		_, err = rt.RoundTrip(req)
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, err, &unknown)
	})

	t.Run("h2 and resumption", func(t *testing.T) {
		cfg := config.Upstream{MaxConnsPerHost: 4, IdleConnTimeout: time.Minute}
		require.NoError(t, cfg.Trust(cert.PEM))
		m := telemetry.NewMetrics(prometheus.NewRegistry(), telemetry.BuildInfo{})
		rt := upstreamTransport(cfg, m)
		t.Cleanup(rt.CloseIdleConnections)

		first := fetchReasons(t, rt, url)
		require.Equal(t, "h2", first.TLS.NegotiatedProtocol)
		require.Equal(t, 2, first.ProtoMajor)
		require.False(t, first.TLS.DidResume, "the first connection has no session to resume")

		// A clone of the transport shares its TLS session cache and its
		// counted dial, but none of its connections, so the next call must
		// open another. Closing the first connection instead raced with
		// HTTP/2's own clean-up of the finished stream: under load the
		// transport sometimes dialled twice for the second call.
		again := rt.Clone()
		t.Cleanup(again.CloseIdleConnections)
		second := fetchReasons(t, again, url)
		require.Equal(t, int64(2), connectionsCounted(t, m), "the second call is on a new connection")
		require.Equal(t, "h2", second.TLS.NegotiatedProtocol)
		require.True(t, second.TLS.DidResume, "the new connection resumes the first one's TLS session")
		require.Equal(t, uint16(tls.VersionTLS13), second.TLS.Version)
	})
}

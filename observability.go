package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/health"
	"github.com/covage/gateway/internal/shared"
	"github.com/covage/gateway/internal/telemetry"
)

// observability is what main wires into the Covage client and the gateway
// so that they log, measure and trace: one private metrics registry, one
// tracer provider, one instrumented upstream transport.
type observability struct {
	build    telemetry.BuildInfo
	metrics  *telemetry.Metrics
	tracer   trace.TracerProvider
	shutdown func(context.Context) error
	upstream *telemetry.Upstream
}

func newObservability(ctx context.Context, getenv func(string) string, up config.Upstream) (*observability, error) {
	o := &observability{build: telemetry.ReadBuildInfo(version)}
	o.metrics = telemetry.NewMetrics(prometheus.NewRegistry(), o.build)
	tp, shutdown, err := telemetry.NewTracerProvider(ctx, getenv, o.build)
	if err != nil {
		return nil, err
	}
	o.tracer, o.shutdown = tp, shutdown
	o.upstream = telemetry.NewUpstream(upstreamTransport(up, o.metrics), o.metrics, o.tracer)
	return o, nil
}

// httpClient is the Covage client's HTTP client: its own connection pool,
// behind the instrumented transport.
func (o *observability) httpClient() *http.Client {
	return &http.Client{Transport: o.upstream.Transport()}
}

// readiness is 503 only while life is starting or draining; the token and
// Covage's recent answers are reported, as degraded when they fail. The
// configuration was validated before anything started. In pass-through
// mode the gateway has no credential of its own, so a probe answered 401
// still shows that Covage is up. warming, when not nil, holds readiness
// while the start-up prefetch runs (freshness.go). redis, when not nil,
// joins the checks as "redis", degraded when it fails.
func (o *observability) readiness(client *covage.Client, passThrough bool, life *health.Lifecycle, warming func() bool, redis *shared.Redis) http.Handler {
	r := health.Readiness{
		Lifecycle:   life,
		Warming:     warming,
		Auth:        client.CheckAuth,
		LastSuccess: o.upstream.LastSuccess,
		Probe: func(ctx context.Context) error {
			_, err := client.TerminateReasons(ctx)
			if passThrough && errors.Is(err, covage.ErrUnauthenticated) {
				return nil
			}
			return err
		},
	}
	if redis != nil {
		r.Dependencies = []health.Check{{Name: "redis", Run: redis.Check}}
	}
	return r
}

// close flushes pending spans.
func (o *observability) close(ctx context.Context, log *slog.Logger) {
	if err := o.shutdown(ctx); err != nil {
		log.Warn("flushing traces", "err", err)
	}
}

// upstreamTransport is the Covage client's own connection pool
// (covage.NewTransport, which the load tools' floor builds too), counting
// the connections it opens in gateway_upstream_connections_total.
func upstreamTransport(up config.Upstream, m *telemetry.Metrics) *http.Transport {
	pool := covage.Pool{MaxConnsPerHost: up.MaxConnsPerHost, IdleConnTimeout: up.IdleConnTimeout, RootCAs: up.RootCAs}
	return covage.NewTransport(pool, func(dial covage.DialFunc) covage.DialFunc { return m.CountConnections(dial) })
}

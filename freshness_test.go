package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/telemetry"
)

// TestPrefetchHoldsReadiness starts the prefetch against an upstream held
// until the test releases it: readiness waits for it, and the lists are
// fetched once each.
func TestPrefetchHoldsReadiness(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	d := demo.Mux(demo.New(demo.Sample()))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
		d.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)
	env := map[string]string{"COVAGE_API_URL": up.URL, "COVAGE_PREFETCH": "true", "READY_AFTER_PREFETCH": "true"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	client, err := covage.New(covage.Config{BaseURL: up.URL})
	require.NoError(t, err)
	shared, err := sharedCache(cfg, client, telemetry.NewMetrics(prometheus.NewRegistry(), telemetry.BuildInfo{}), cache.SharedConfig{})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	warming := warmUp(ctx, cfg, shared, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NotNil(t, warming)
	require.True(t, warming(), "not ready while the prefetch runs")
	close(release)
	require.Eventually(t, func() bool { return !warming() }, 10*time.Second, 5*time.Millisecond)
	n := calls.Load()
	require.GreaterOrEqual(t, n, int64(6), "every list")

	// Warm: a list read now costs nothing.
	_, err = shared.TerminateReasons(context.Background())
	require.NoError(t, err)
	require.Equal(t, n, calls.Load())

	// Pass-through: no prefetch, nothing to wait for.
	env["COVAGE_CREDENTIALS"] = "passthrough"
	cfg, err = config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	shared, err = sharedCache(cfg, client, nil, cache.SharedConfig{})
	require.NoError(t, err)
	require.Nil(t, warmUp(ctx, cfg, shared, slog.New(slog.NewTextHandler(io.Discard, nil))))
}

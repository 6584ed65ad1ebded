package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/telemetry"
)

// TestSharedCacheMetrics checks the shared cache's lookups reach
// gateway_cache_events_total.
func TestSharedCacheMetrics(t *testing.T) {
	up := httptest.NewServer(demo.Mux(demo.New(demo.Sample())))
	t.Cleanup(up.Close)
	cfg, err := config.Load(func(k string) string {
		if k == "COVAGE_API_URL" {
			return up.URL
		}
		return ""
	})
	require.NoError(t, err)
	client, err := covage.New(covage.Config{BaseURL: up.URL})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	m := telemetry.NewMetrics(reg, telemetry.BuildInfo{})
	shared, err := sharedCache(cfg, client, m, cache.SharedConfig{})
	require.NoError(t, err)

	for range 3 {
		_, err := shared.Projects(context.Background(), domain.ProjectFilter{})
		require.NoError(t, err)
	}
	events := func(result string) float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "gateway_cache_events_total" {
				continue
			}
			for _, metric := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range metric.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["endpoint"] == covage.EndpointProject && labels["result"] == result {
					return metric.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	require.Equal(t, 1.0, events("miss"))
	require.Equal(t, 2.0, events("hit"))
	require.Zero(t, events("stale"))
}

package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadiness(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := func(context.Context) error { return nil }
	fail := func(msg string) func(context.Context) error {
		return func(context.Context) error { return errors.New(msg) }
	}
	draining, starting, serving := &Lifecycle{}, &Lifecycle{}, &Lifecycle{}
	draining.Serve()
	draining.Drain()
	serving.Serve()
	tests := []struct {
		name       string
		r          Readiness
		wantStatus int
		wantReport string
		wantChecks map[string]string
		wantProbes int
	}{
		{
			name:       "recent answer needs no probe",
			r:          Readiness{Lifecycle: serving, Auth: ok, LastSuccess: func() time.Time { return now.Add(-10 * time.Second) }},
			wantStatus: http.StatusOK,
			wantReport: StatusReady,
			wantChecks: map[string]string{"config": "ok", "auth": "ok", "upstream": "ok"},
		},
		{
			name:       "quiet upstream is probed",
			r:          Readiness{Auth: ok, LastSuccess: func() time.Time { return now.Add(-2 * time.Minute) }},
			wantStatus: http.StatusOK,
			wantReport: StatusReady,
			wantChecks: map[string]string{"config": "ok", "auth": "ok", "upstream": "ok"},
			wantProbes: 1,
		},
		{
			name:       "Covage down degrades, never 503",
			r:          Readiness{Auth: ok, LastSuccess: func() time.Time { return time.Time{} }, Probe: fail("project: upstream unavailable (503)")},
			wantStatus: http.StatusOK,
			wantReport: StatusDegraded,
			wantChecks: map[string]string{"config": "ok", "auth": "ok", "upstream": "project: upstream unavailable (503)"},
			wantProbes: 1,
		},
		{
			name:       "Keycloak refusing degrades, never 503",
			r:          Readiness{Auth: fail("token: unauthenticated"), LastSuccess: func() time.Time { return now }},
			wantStatus: http.StatusOK,
			wantReport: StatusDegraded,
			wantChecks: map[string]string{"config": "ok", "auth": "token: unauthenticated", "upstream": "ok"},
		},
		{
			name:       "a further dependency down degrades",
			r:          Readiness{Dependencies: []Check{{Name: "redis", Run: fail("dial tcp: connection refused")}}},
			wantStatus: http.StatusOK,
			wantReport: StatusDegraded,
			wantChecks: map[string]string{"config": "ok", "redis": "dial tcp: connection refused"},
		},
		{
			name:       "invalid configuration",
			r:          Readiness{Config: func() error { return errors.New("COVAGE_TIMEOUT must be positive") }},
			wantStatus: http.StatusServiceUnavailable,
			wantReport: StatusNotReady,
			wantChecks: map[string]string{"config": "COVAGE_TIMEOUT must be positive"},
		},
		{
			name:       "starting",
			r:          Readiness{Lifecycle: starting, Auth: ok},
			wantStatus: http.StatusServiceUnavailable,
			wantReport: StatusNotReady,
			wantChecks: map[string]string{},
		},
		{
			name:       "draining, with every dependency fine",
			r:          Readiness{Lifecycle: draining, Auth: ok, LastSuccess: func() time.Time { return now }},
			wantStatus: http.StatusServiceUnavailable,
			wantReport: StatusNotReady,
			wantChecks: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probes := 0
			probe := tt.r.Probe
			if probe == nil {
				probe = func(context.Context) error { return nil }
			}
			tt.r.Probe = func(ctx context.Context) error { probes++; return probe(ctx) }
			if tt.r.LastSuccess == nil {
				tt.r.Probe = nil
			}
			tt.r.Now = func() time.Time { return now }

			rec := httptest.NewRecorder()
			tt.r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			require.Equal(t, tt.wantStatus, rec.Code)
			var rep Report
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
			require.Equal(t, tt.wantChecks, rep.Checks)
			require.Equal(t, tt.wantReport, rep.Status)
			require.Equal(t, tt.wantProbes, probes)
		})
	}
}

func TestReadinessWaitsForWarming(t *testing.T) {
	warming := true
	r := Readiness{Warming: func() bool { return warming }}
	rep := r.Check(context.Background())
	require.Equal(t, "not ready", rep.Status)
	require.Equal(t, "fetching Covage's lists", rep.Checks["prefetch"])
	warming = false
	rep = r.Check(context.Background())
	require.Equal(t, "ready", rep.Status)
	require.NotContains(t, rep.Checks, "prefetch")
}

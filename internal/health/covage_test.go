package health_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/health"
	"github.com/covage/gateway/internal/telemetry"
)

// TestReadinessAgainstCovage wires the checks as main does, against the
// demo upstream with its OAuth2 password grant.
func TestReadinessAgainstCovage(t *testing.T) {
	const password = "right-password"
	tests := []struct {
		name       string
		password   string
		down       bool
		wantReady  bool
		wantChecks map[string]string // substrings of each check
	}{
		{name: "ready", password: password, wantReady: true,
			wantChecks: map[string]string{"config": "ok", "auth": "ok", "upstream": "ok"}},
		{name: "token refused", password: "wrong-password",
			wantChecks: map[string]string{"config": "ok", "auth": "unauthenticated", "upstream": "unauthenticated"}},
		{name: "covage down", password: password, down: true,
			wantChecks: map[string]string{"config": "ok", "auth": "", "upstream": ""}},
	}
	// Whatever happens to Covage or Keycloak, the replica stays ready: the
	// outage shows as degraded.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dataCalls atomic.Int64
			d := demo.New(demo.Sample(), demo.WithCredentials("user", password))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != demo.TokenPath {
					dataCalls.Add(1)
				}
				d.ServeHTTP(w, r)
			}))
			defer srv.Close()
			if tt.down {
				srv.Close()
			}
			up := telemetry.NewUpstream(http.DefaultTransport.(*http.Transport).Clone(), nil, nil)
			client, err := covage.New(covage.Config{
				BaseURL:    srv.URL,
				Auth:       covage.PasswordAuth(srv.URL+demo.TokenPath, "api-client", "user", covage.Secret(tt.password)),
				HTTPClient: &http.Client{Transport: up.Transport()},
			})
			require.NoError(t, err)
			ready := health.Readiness{
				Auth:        client.CheckAuth,
				LastSuccess: up.LastSuccess,
				Probe: func(ctx context.Context) error {
					_, err := client.TerminateReasons(ctx)
					return err
				},
			}

			for range 2 {
				rec := httptest.NewRecorder()
				ready.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				var rep health.Report
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep), rec.Body.String())
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				require.Equal(t, tt.wantReady, rep.Status == health.StatusReady, rec.Body.String())
				if !tt.wantReady {
					require.Equal(t, health.StatusDegraded, rep.Status)
				}
				for name, want := range tt.wantChecks {
					require.Contains(t, rep.Checks[name], want, name)
					if !tt.wantReady && want == "" {
						require.NotEqual(t, "ok", rep.Checks[name], name)
					}
				}
				require.NotContains(t, rec.Body.String(), tt.password, "no credential in the report")
			}
			if tt.wantReady {
				require.EqualValues(t, 1, dataCalls.Load(), "the second check relied on the recent answer, not a new probe")
			}
		})
	}
}

package demo_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

func TestStatsHandler(t *testing.T) {
	s := demo.New(demo.Sample())
	srv := httptest.NewServer(demo.Mux(s))
	t.Cleanup(srv.Close)

	for _, path := range []string{"/api/v1/referential/project/", "/api/v1/referential/project/", "/api/v1/referential/enni/"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	tests := []struct {
		name   string
		method string
		status int
		want   *demo.Stats
	}{
		{"counts data calls", http.MethodGet, http.StatusOK, &demo.Stats{Total: 3}},
		{"rejects POST", http.MethodPost, http.StatusMethodNotAllowed, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+demo.StatsPath, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.want == nil {
				return
			}
			var got demo.Stats
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
			require.Equal(t, tc.want.Total, got.Total)
			require.Equal(t, int64(2), got.Calls["project"])
			require.Equal(t, int64(1), got.Calls["enni"])
			require.Equal(t, int64(0), got.Calls["billing_site"])
		})
	}
}

package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

func TestPprof(t *testing.T) {
	tests := []struct {
		name   string
		pprof  bool
		status int
	}{
		{"off by default", false, http.StatusNotFound},
		{"on with PPROF", true, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(gateway.New(gateway.Options{Pprof: tc.pprof}))
			t.Cleanup(srv.Close)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
				resp, err := http.Get(srv.URL + path)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, tc.status, resp.StatusCode, path)
			}
		})
	}
}

package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestRequestDeadline checks the overall request deadline cancels a slow
// upstream call and answers with a coded error.
func TestRequestDeadline(t *testing.T) {
	e := newEnv(t, withSecurity(gateway.Security{RequestTimeout: 50 * time.Millisecond}))
	e.fault("/api/v1/referential/terminate_reason", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	r := e.query(t, "{ terminateReasons { code } changeReasons { code } }", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotEmpty(t, r.Errors, r.Body)
	// On a loaded machine changeReasons may miss the 50 ms deadline too,
	// and the order of errors is not defined: look terminateReasons up.
	var found bool
	for _, err := range r.Errors {
		if len(err.Path) == 1 && err.Path[0] == "terminateReasons" {
			require.Equal(t, "UPSTREAM_TIMEOUT", err.Extensions["code"], r.Body)
			found = true
		}
	}
	require.True(t, found, r.Body)
}

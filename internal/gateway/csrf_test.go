package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestCSRF checks Apollo's CSRF prevention rule.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	body := `{"query":"{ terminateReasons { code } }"}`
	tests := []struct {
		name   string
		method string
		header map[string]string
		ok     bool
	}{
		{"json POST", "POST", map[string]string{"Content-Type": "application/json; charset=utf-8"}, true},
		{"no content type", "POST", nil, false},
		{"form POST", "POST", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, false},
		{"multipart POST", "POST", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, false},
		{"text/plain POST", "POST", map[string]string{"Content-Type": "text/plain;charset=utf-8"}, false},
		{"bare GET", "GET", nil, false},
		{"GET with Content-Type: application/json", "GET", map[string]string{"Content-Type": "application/json"}, false},
		{"GET with an empty header", "GET", map[string]string{"Apollo-Require-Preflight": ""}, false},
		{"GET with Apollo-Require-Preflight", "GET", map[string]string{"Apollo-Require-Preflight": "true"}, true},
		{"GET with X-Apollo-Operation-Name", "GET", map[string]string{"X-Apollo-Operation-Name": "Q"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request{method: tt.method, header: tt.header, body: strings.NewReader(body)}
			if tt.method == "GET" {
				r = get("{ terminateReasons { code } }", tt.header)
			}
			e.upstream()
			a := e.send(t, r)
			if !tt.ok {
				require.Equal(t, http.StatusBadRequest, a.status, a.body)
				require.Equal(t, gateway.CodeCSRF, a.errors[0].Extensions["code"])
				require.Empty(t, e.upstream())
				return
			}
			require.Equal(t, http.StatusOK, a.status, a.body)
			require.Empty(t, a.errors)
		})
	}
}

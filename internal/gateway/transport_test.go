package gateway_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMediaTypes checks GraphQL over HTTP: the response type follows Accept
// and the status follows the type.
func TestMediaTypes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, accept, query, wantType string
		wantStatus                    int
	}{
		{"no Accept", "", "{ terminateReasons { code } }", "application/json", 200},
		{"json", "application/json", "{ terminateReasons { code } }", "application/json", 200},
		{"graphql-response+json", "application/graphql-response+json", "{ terminateReasons { code } }", "application/graphql-response+json", 200},
		{"preference order", "application/graphql-response+json, application/json;q=0.9", "{ terminateReasons { code } }", "application/graphql-response+json", 200},
		{"q values", "application/graphql-response+json;q=0.5, application/json", "{ terminateReasons { code } }", "application/json", 200},
		{"any", "*/*", "{ terminateReasons { code } }", "application/json", 200},
		{"validation error, json", "application/json", "{ nope }", "application/json", 200},
		{"validation error, graphql-response+json", "application/graphql-response+json", "{ nope }", "application/graphql-response+json", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			if tt.accept != "" {
				h["Accept"] = tt.accept
			}
			a := e.send(t, request{header: h, body: jsonBody(t, map[string]any{"query": tt.query})})
			require.Equal(t, tt.wantStatus, a.status, a.body)
			require.Equal(t, tt.wantType, a.header.Get("Content-Type"))
		})
	}
	t.Run("operationName and variables over GET", func(t *testing.T) {
		q := url.Values{
			"query":         {`query A { terminateReasons { code } } query B($c: String!) { project(code: $c) { code } }`},
			"operationName": {"B"},
			"variables":     {`{"c": "FLASH"}`},
		}
		a := e.send(t, request{method: http.MethodGet, path: "/query?" + q.Encode(), header: preflight})
		require.Equal(t, 200, a.status, a.body)
		require.JSONEq(t, `{"project":{"code":"FLASH"}}`, string(a.data))
	})
}

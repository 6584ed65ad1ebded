package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzQueryEndpoint sends arbitrary POST bodies and GET queries to /query.
// Whatever comes in, the gateway must answer without a server error, with a
// JSON object that has data or a non-empty errors array, and an error
// status only with errors. The seed corpus is in
// testdata/fuzz/FuzzQueryEndpoint.
func FuzzQueryEndpoint(f *testing.F) {
	for _, s := range []struct{ body, query string }{
		{`{"query":"{ terminateReasons { code label } }"}`, `{ terminateReasons { code } }`},
		{`{"query":"query($c: String!) { project(code: $c) { code ennis { reference } } }","variables":{"c":"FLASH"}}`, `query Q { businesses { code } }`},
		{`{"query":"{ projects { ...A } } fragment A on Project { ennis { ...B } } fragment B on Enni { projects { ...A } }"}`, `mutation { __typename }`},
		{`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, `{ node(id: "UHJvamVjdDpGTEFTSA") { id } }`},
		{`{"query": "{ __typename"`, `{`},
		{`[]`, ``},
	} {
		f.Add([]byte(s.body), s.query)
	}
	e := newEnv(f)
	h := e.gateway.Config.Handler
	check := func(t *testing.T, req *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Less(t, rec.Code, 500, rec.Body.String())
		var got struct {
			Data   json.RawMessage  `json:"data"`
			Errors []map[string]any `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
		if rec.Code != http.StatusOK {
			require.NotEmpty(t, got.Errors, rec.Body.String())
		}
		require.True(t, len(got.Errors) > 0 || len(got.Data) > 0, rec.Body.String())
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		check(t, req)
		req = httptest.NewRequest(http.MethodGet, "/query?query="+url.QueryEscape(query), nil)
		req.Header.Set("Apollo-Require-Preflight", "true")
		check(t, req)
		e.upstream()
	})
}

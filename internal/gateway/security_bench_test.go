package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/covage/gateway/internal/gateway"
)

// BenchmarkRefusals measures what a hostile operation costs the gateway
// when a limit refuses it, against the same operation with its limit
// raised so that gqlgen validates it (validation of overlapping fields is
// quadratic). Run: go test -run '^$' -bench Refusals ./internal/gateway
func BenchmarkRefusals(b *testing.B) {
	aliases := "{ projects { " + repeat(2000, "a%d: code ") + "} }"
	roots := "{ " + strings.Repeat("__typename ", 5000) + "}"
	open := gateway.Security{Limits: gateway.Limits{MaxAliases: 1 << 20, MaxRootFields: 1 << 20, MaxCost: 1 << 30}}
	for _, bc := range []struct {
		name  string
		query string
		sec   gateway.Security
	}{
		{"2000 aliases refused", aliases, gateway.Security{}},
		{"2000 aliases run", aliases, open},
		{"5000 root fields refused", roots, gateway.Security{}},
		{"5000 root fields run", roots, open},
		{"depth 30 refused", nested(30), gateway.Security{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, withSecurity(bc.sec))
			h := e.gateway.Config.Handler
			body, _ := json.Marshal(map[string]any{"query": bc.query})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}

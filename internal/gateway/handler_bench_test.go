package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/covage/gateway/internal/cache"
)

// BenchmarkHandlerReasonsWarm calls the gateway's handler directly, with no
// socket and no HTTP parsing, for the three reason lists from a warm cache:
// what the gateway itself costs per request, without net/http and the
// kernel, which the load driver's figures include.
func BenchmarkHandlerReasonsWarm(b *testing.B) {
	e := newEnv(b, withCache(cache.Config{}))
	h := e.gateway.Config.Handler
	const body = `{"query":"{ terminateReasons { code label } changeReasons { code label } siteConnectionTypes { code label } }"}`
	do := func() {
		req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatal(rec.Body.String())
		}
	}
	do() // fills the cache
	b.ReportAllocs()
	for b.Loop() {
		do()
	}
}

package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// searchQuery is the search-as-you-type query of issue 15.
const searchQuery = `query Search($search: String, $after: String) {
  enniConnection(search: $search, first: 20, after: $after) { totalCount nodes { reference label } }
}`

// BenchmarkConnection measures the search-as-you-type query against the
// plain filtered list, side by side in one run, with the shared cache warm,
// on 2,000 and 50,000 doors. Each op calls the gateway's handler in
// process (no socket, no client), so ns/op and cpu-ms/op (the process's
// user+system CPU over the loop, GC included, divided by b.N) are the
// gateway's own cost; the upstream is not called (upstream/op).
// "responses=off" executes every request; "responses=on" adds the
// response cache, as the gateway runs by default.
//
//	go test ./internal/gateway -run '^$' -bench Connection -benchmem
func BenchmarkConnection(b *testing.B) {
	for _, doors := range []int{2000, 50000} {
		data := demo.Generate(500, doors, 50)
		for _, responses := range []bool{false, true} {
			opts := []option{withData(data), withCache(cache.Config{TTL: map[string]time.Duration{}, DefaultTTL: time.Hour})}
			if responses {
				opts = append(opts, withGateway(func(o *gateway.Options) { o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20} }))
			}
			e := newEnv(b, opts...)
			// The next page's cursor, from a first page.
			var first struct {
				Data struct {
					C struct{ PageInfo struct{ EndCursor string } } `json:"enniConnection"`
				} `json:"data"`
			}
			next := func(search string) string {
				body := e.serve(b, searchRequest(`query($s: String) { enniConnection(search: $s, first: 20) { pageInfo { endCursor } } }`, map[string]any{"s": search}))
				if err := json.Unmarshal(body, &first); err != nil {
					b.Fatal(err)
				}
				return first.Data.C.PageInfo.EndCursor
			}
			cases := []struct {
				name string
				body []byte
			}{
				{"search=col", searchRequest(searchQuery, map[string]any{"search": "col"})},
				{"search=col/next_page", searchRequest(searchQuery, map[string]any{"search": "col", "after": next("col")})},
				{"search=n°7", searchRequest(searchQuery, map[string]any{"search": "n°7"})},
				{"search=n°7/next_page", searchRequest(searchQuery, map[string]any{"search": "n°7", "after": next("n°7")})},
				{"plain_list_bpea", searchRequest(`{ ennis(filter: {offer: BPEA}) { reference label offer } }`, nil)},
			}
			for _, c := range cases {
				b.Run(fmt.Sprintf("doors=%d/responses=%v/%s", doors, map[bool]string{false: "off", true: "on"}[responses], c.name), func(b *testing.B) {
					size := len(e.serve(b, c.body)) // warms the caches and the index
					e.serve(b, c.body)
					e.upstream()
					b.ReportAllocs()
					cpu := cpuTime()
					b.ResetTimer()
					for b.Loop() {
						e.serve(b, c.body)
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
					b.ReportMetric(float64(len(e.upstream()))/float64(b.N), "upstream/op")
					b.ReportMetric(float64(size), "resp-bytes")
				})
			}
		}
	}
}

func searchRequest(query string, vars map[string]any) []byte {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return body
}

// serve runs one POST through the handler in process and returns the body,
// failing on an error.
func (e *env) serve(b *testing.B, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %.500s", w.Code, w.Body.String())
	}
	return w.Body.Bytes()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

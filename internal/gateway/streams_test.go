package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// streamedData answers bigQuery with about 500 kB: lists many chunks long.
var streamedData = func() *demo.Dataset { return demo.Generate(500, 2000, 50) }

// withStreaming streams every fast list of min bytes or more.
func withStreaming(min int64) option {
	return withGateway(func(o *gateway.Options) { o.StreamMinBytes = min })
}

// TestStreamedAnswersAreTheAnswersBuiltWhole checks issue 16, item 4's
// streaming against the answers built whole: with every fast list
// streamed, each answer has the same bytes, Content-Length and ETag, plain
// and gzip, and a GET revalidates against the streamed answer's ETag.
func TestStreamedAnswersAreTheAnswersBuiltWhole(t *testing.T) {
	data := streamedData()
	whole := newEnv(t, withData(data), withCache(cache.Config{}))
	streamed := newEnv(t, withData(data), withCache(cache.Config{}), withStreaming(1))
	queries := map[string]string{
		"relation from projects": bigQuery,
		"relation from doors":    `{ ennis { reference projects { code startDate } } }`,
		"two lists and a field between them": `{ a: ennis(filter: {offer: BPEA}) { reference label offer }
			terminateReasons { code label } b: projects { code clientCode active } }`,
		"an empty list": `{ ennis(filter: {reference: "no such door"}) { reference } }`,
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			for range 2 { // the first answer of a selection, then one whose size is known
				want, wantBody := getRaw(t, whole.gateway.URL, q, nil)
				got, gotBody := getRaw(t, streamed.gateway.URL, q, nil)
				require.Equal(t, http.StatusOK, got.StatusCode)
				require.NotContains(t, string(gotBody), "errors")
				require.Equal(t, string(wantBody), string(gotBody))
				require.Equal(t, strconv.Itoa(len(wantBody)), got.Header.Get("Content-Length"))
				require.Equal(t, want.Header.Get("ETag"), got.Header.Get("ETag"))
				// The two gateways' caches were filled at different
				// moments: their max-age may differ, not their scope.
				wantScope, _ := maxAge(t, want)
				gotScope, _ := maxAge(t, got)
				require.Equal(t, wantScope, gotScope)

				gz := map[string]string{"Accept-Encoding": "gzip"}
				wantZ, _ := getRaw(t, whole.gateway.URL, q, gz)
				gotZ, zipped := getRaw(t, streamed.gateway.URL, q, gz)
				require.Equal(t, wantZ.Header.Get("Content-Encoding"), gotZ.Header.Get("Content-Encoding"))
				if gotZ.Header.Get("Content-Encoding") == "gzip" {
					zipped = gunzip(t, zipped)
				}
				require.Equal(t, string(wantBody), string(zipped))

				again, body := getRaw(t, streamed.gateway.URL, q, map[string]string{"If-None-Match": want.Header.Get("ETag")})
				require.Equal(t, http.StatusNotModified, again.StatusCode)
				require.Empty(t, body)
			}
		})
	}
}

// TestStreamedAnswerKeepsTheResponseLimit checks that MAX_RESPONSE_BYTES
// counts streamed lists, which gqlgen's buffer holds only as one byte each:
// an answer of exactly the limit is sent, one byte more is refused whole,
// with RESPONSE_TOO_LARGE, no data, and no-store.
func TestStreamedAnswerKeepsTheResponseLimit(t *testing.T) {
	data := streamedData()
	full := newEnv(t, withData(data)).mustQuery(t, bigQuery, nil)
	size := len(full)
	require.Greater(t, size, 100_000)

	e := newEnv(t, withData(data), withStreaming(1), withSecurity(gateway.Security{Limits: gateway.Limits{MaxResponseBytes: size}}))
	require.Equal(t, string(full), string(e.mustQuery(t, bigQuery, nil)), "an answer of exactly the limit passes")

	e = newEnv(t, withData(data), withStreaming(1), withSecurity(gateway.Security{Limits: gateway.Limits{MaxResponseBytes: size - 1}}))
	for range 2 {
		resp, body := getRaw(t, e.gateway.URL, bigQuery, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		var r response
		require.NoError(t, json.Unmarshal(body, &r), "%.200s", body)
		require.Len(t, r.Errors, 1, "%.200s", body)
		require.Equal(t, "RESPONSE_TOO_LARGE", r.Errors[0].Extensions["code"])
		require.Equal(t, "null", string(orNull(r.Data)), "no data")
	}
}

// TestResponseCacheNeverKeepsAStreamedAnswer checks that an answer whose
// lists were streamed is not kept: its data is only marks. The response
// cache keeps answers up to an eighth of its size, and the gateway
// streams only answers larger than that; a list whose size changed, or
// whose first answer was judged from its item count, can still be
// streamed and then fit.
func TestResponseCacheNeverKeepsAStreamedAnswer(t *testing.T) {
	data := streamedData()
	whole := newEnv(t, withData(data), withCache(cache.Config{}))
	_, want := getRaw(t, whole.gateway.URL, bigQuery, nil)

	var ev responseEvents
	// Kept up to 256 KiB: the 500 kB answer is streamed, and its marks
	// would fit.
	e := newEnv(t, withData(data), withCache(cache.Config{}), withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: 2 << 20, OnEvent: ev.event}
		o.StreamMinBytes = 1
	}))
	for range 3 {
		_, got := getRaw(t, e.gateway.URL, bigQuery, nil)
		require.Equal(t, string(want), string(got))
	}
	require.Zero(t, ev.hits.Load())
	require.Equal(t, int64(3), ev.misses.Load())
}

// BenchmarkStreamedAnswer is the 2.57 MB answer of copiesData from a warm
// shared cache, built whole and streamed, side by side in one process, in
// process and into a writer that keeps nothing: what streaming costs in
// CPU (the lists are written twice, once to measure them) and saves in
// memory.
//
//	go test ./internal/gateway -run '^$' -bench StreamedAnswer -benchmem
func BenchmarkStreamedAnswer(b *testing.B) {
	data := copiesData()
	body, err := json.Marshal(map[string]string{"query": copiesQuery})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		min  int64
	}{{"whole", 0}, {"streamed", 1 << 20}} {
		e := newEnv(b, withData(data), withCache(cache.Config{}), withStreaming(m.min))
		b.Run(m.name, func(b *testing.B) {
			s := &sink{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				*s = sink{header: http.Header{}}
				e.handler.ServeHTTP(s, req)
				if s.status != http.StatusOK {
					b.Fatalf("status %d", s.status)
				}
			}
			b.ReportMetric(float64(s.n), "resp-bytes")
		})
	}
}

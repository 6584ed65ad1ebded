package gateway_test

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// sink is a response writer that keeps no copy of the body: it counts the
// bytes and checksums them, so that what one request allocates counts the
// gateway's buffers and not the test's.
type sink struct {
	header http.Header
	status int
	n      int
	sum    uint32
}

func (s *sink) Header() http.Header { return s.header }
func (s *sink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *sink) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.n += len(p)
	s.sum = crc32.Update(s.sum, crc32.IEEETable, p)
	return len(p), nil
}

// answerSize is the length of the answer before any encoding: its ETag
// starts with it (httpcaching.go).
func (s *sink) answerSize(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(strings.SplitN(strings.Trim(s.header.Get("ETag"), `"`), "-", 2)[0])
	require.NoError(t, err, "ETag %q", s.header.Get("ETag"))
	return n
}

// allocPerRequest serves query in process, calling before ahead of each
// request, and returns the bytes the whole process allocated per request
// (runtime.MemStats.TotalAlloc counts every allocation, not a sample) and
// the last answer as sent. A request before the count warms the query
// cache and the fast path's size memo. The figure is the least of
// copiesRounds rounds of copiesRequests requests: a collection empties
// the sync.Pools of compressors at moments no test controls, and the
// round that refills one counts its encoder, while a copy of the answer
// is in every round.
//
// Under the race detector the figures mean nothing and the test is
// skipped: there bytes.Buffer allocates twice what it grows by, and
// sync.Pool drops a quarter of what is put back. .ci/run runs these tests
// without it.
func allocPerRequest(t *testing.T, h http.Handler, query, encoding string, before func()) (float64, *sink) {
	t.Helper()
	if raceDetector {
		t.Skip("allocation is measured without the race detector (.ci/run)")
	}
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	do := func() *sink {
		before()
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", encoding)
		s := &sink{header: http.Header{}}
		h.ServeHTTP(s, req)
		require.Equal(t, http.StatusOK, s.status)
		require.NotContains(t, s.header.Get("Cache-Control"), "no-store", "an error answer")
		return s
	}
	last := do()
	least := math.Inf(1)
	for range copiesRounds {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range copiesRequests {
			last = do()
		}
		runtime.ReadMemStats(&m1)
		least = min(least, float64(m1.TotalAlloc-m0.TotalAlloc)/copiesRequests)
	}
	return least, last
}

const (
	// copiesQuery answers 2.57 MB on copiesData.
	copiesQuery = `{ projects { code ennis { reference } } }`
	// Each figure is the least of copiesRounds averages of copiesRequests
	// requests: rounds of one request, and many of them, so that one round
	// at least finds every compressor in its sync.Pool.
	copiesRounds   = 16
	copiesRequests = 1
)

var copiesData = func() *demo.Dataset { return demo.Generate(2500, 10000, 250) }

// TestLargeAnswerIsBuiltOnce guards item 4 of issue 16 where the answer is
// built: `{ projects { code ennis { reference } } }` on 10,000 doors (a
// 2.57 MB answer) from a warm shared cache, so that no upstream decoding is
// counted, allocates at most 1.5 answers per request, whatever the
// encoding: the answer once, with a sixteenth of spare room, and the
// plan's own lists (about a quarter of an answer here). A second copy of
// the answer on the way (a buffer grown by doubling, a re-encoding, a
// joined body) allocates one more answer and fails it. The measure is
// allocation, not time.
func TestLargeAnswerIsBuiltOnce(t *testing.T) {
	requireAnswersPerRequest(t, newEnv(t, withData(copiesData()), withCache(cache.Config{})), 1.5)
}

// requireAnswersPerRequest bounds, for every encoding, what a request for
// copiesQuery from e's warm shared cache allocates, in answers.
func requireAnswersPerRequest(t *testing.T, e *env, most float64) {
	t.Helper()
	for _, encoding := range []string{"identity", "gzip", "zstd"} {
		t.Run(encoding, func(t *testing.T) {
			per, last := allocPerRequest(t, e.handler, copiesQuery, encoding, func() {})
			size := last.answerSize(t)
			require.Greater(t, size, 2_000_000)
			t.Logf("answer %d bytes (%d sent): %.0f bytes allocated per request, %.2f answers", size, last.n, per, per/float64(size))
			require.LessOrEqual(t, per/float64(size), most)
		})
	}
}

// TestResponseCacheKeepsTheAnswerItBuilt guards item 4 of issue 16 in the
// response cache: keeping an answer, and its encoding, costs no copy of
// the answer. Each request runs after the shared cache's entries expired
// (a hand-moved clock), so it reads Covage and is a response-cache miss;
// the same requests with the response cache off are the reference. What
// keeping adds must stay under a twentieth of the answer, plus, for an
// encoding, the encoded body and a quarter (the copy it keeps, in pieces).
// A response cache that copies the answer, or records its encoded body in
// a buffer grown by doubling and then copies that, fails. Then a hit
// allocates under a tenth of the answer.
func TestResponseCacheKeepsTheAnswerItBuilt(t *testing.T) {
	data := copiesData()
	const ttl = time.Minute
	serve := func(t *testing.T, respMB int64, encoding string) (float64, *sink) {
		clk := &testClock{t: time.Now()}
		e := newEnv(t, withData(data), withCache(cache.Config{DefaultTTL: ttl, Now: clk.Now}), withGateway(func(o *gateway.Options) {
			o.ResponseCache = gateway.ResponseCache{MaxBytes: respMB << 20}
		}))
		return allocPerRequest(t, e.handler, copiesQuery, encoding, func() { clk.add(ttl + time.Second) })
	}
	for _, encoding := range []string{"identity", "gzip", "zstd"} {
		t.Run(encoding, func(t *testing.T) {
			off, _ := serve(t, 0, encoding)
			kept, last := serve(t, 64, encoding)
			size := last.answerSize(t)
			encoded := 0
			if encoding != "identity" {
				encoded = last.n
			}
			t.Logf("answer %d bytes (%d sent): %.0f bytes allocated per request without the response cache, %.0f with it (%.2f answers more)",
				size, last.n, off, kept, (kept-off)/float64(size))
			require.LessOrEqual(t, kept-off, float64(size)/20+1.25*float64(encoded))
		})
	}
	t.Run("hit", func(t *testing.T) {
		e := newEnv(t, withData(data), withCache(cache.Config{}), withGateway(func(o *gateway.Options) {
			o.ResponseCache = gateway.ResponseCache{MaxBytes: 64 << 20}
		}))
		for _, encoding := range []string{"identity", "gzip", "zstd"} {
			per, last := allocPerRequest(t, e.handler, copiesQuery, encoding, func() {})
			size := last.answerSize(t)
			t.Logf("%s hit: %.0f bytes allocated per request (%.3f answers)", encoding, per, per/float64(size))
			require.LessOrEqual(t, per, float64(size)/10)
		}
	})
}

// TestStreamedAnswerIsNeverWhole guards the streaming of item 4 of issue
// 16: the same 2.57 MB answer as TestLargeAnswerIsBuiltOnce, with lists of
// 1 MiB or more streamed, allocates under half an answer per request
// (the plan's own lists, and a chunk) whatever the encoding: the answer is
// never whole in memory. Built whole it takes 1.3 answers, and fails.
func TestStreamedAnswerIsNeverWhole(t *testing.T) {
	requireAnswersPerRequest(t, newEnv(t, withData(copiesData()), withCache(cache.Config{}), withStreaming(1<<20)), 0.5)
}

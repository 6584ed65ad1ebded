package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
)

const reasonsPath = "/api/v1/referential/terminate_reason"

// staleInfo is one entry of the response's extensions.stale.
type staleInfo struct {
	Path       []any  `json:"path"`
	Endpoint   string `json:"endpoint"`
	AgeSeconds int    `json:"ageSeconds"`
}

// staleOf reads extensions.stale from a raw response body.
func staleOf(t testing.TB, body string) []staleInfo {
	t.Helper()
	var r struct {
		Extensions struct {
			Stale []staleInfo `json:"stale"`
		} `json:"extensions"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r.Extensions.Stale
}

// retries is a client with fast retries, so fault tests stay quick.
func retries(n int) option {
	return withClient(func(c *covage.Config) {
		c.MaxAttempts = n
		c.RetryBaseDelay = time.Millisecond
		c.RetryMaxDelay = 5 * time.Millisecond
	})
}

// shortCache is the shared cache with a TTL short enough to expire in a
// test.
const shortTTL = 50 * time.Millisecond

func shortCache() option { return withCache(cache.Config{DefaultTTL: shortTTL}) }

func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func resetMidBody(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"terminate_reasons\": [\"Cess")
	_ = buf.Flush()
	_ = conn.Close()
}

// demoFault answers through the demo with its SetFault, so the fault is the
// demo's own (status, Retry-After, body).
func demoFault(e *env, f demo.Fault) {
	e.demo.SetFault(f)
}

// TestFaultsServeStaleOrCodedPartialData injects each fault on the
// terminate_reason endpoint and checks, with a 200ms upstream timeout and 3
// attempts:
//   - cold (nothing cached): the gateway answers in time with the other
//     field's data and the fault's extensions.code on the failing field;
//   - warm (a value cached, then expired): it answers with the stale value,
//     no error, and extensions.stale naming the field and its age;
//   - it stays up and serves fresh data once the fault is gone.
func TestFaultsServeStaleOrCodedPartialData(t *testing.T) {
	cases := []struct {
		name  string
		fault func(e *env)
		code  string
	}{
		{"hang", func(e *env) { e.fault(reasonsPath, hang) }, "UPSTREAM_TIMEOUT"},
		{"503", func(e *env) { demoFault(e, demo.Fault{Status: http.StatusServiceUnavailable}) }, "UPSTREAM_UNAVAILABLE"},
		{"429 with a Retry-After past the cap", func(e *env) {
			demoFault(e, demo.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30"})
		}, "RATE_LIMITED"},
		{"broken JSON", func(e *env) {
			e.fault(reasonsPath, status(http.StatusOK, `{"terminate_reasons": ["a", `))
		}, "UPSTREAM_BAD_RESPONSE"},
		{"connection reset mid-body", func(e *env) { e.fault(reasonsPath, resetMidBody) }, "UPSTREAM_UNAVAILABLE"},
		{"slower than the timeout", func(e *env) {
			e.fault(reasonsPath, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(400 * time.Millisecond):
				}
				e.demo.ServeHTTP(w, r)
			})
		}, "UPSTREAM_TIMEOUT"},
	}
	const q = `{ terminateReasons { code label } changeReasons { code } }`
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Cold: no value to fall back on, so a coded error on one field.
			cold := newEnv(t, withTimeout(200*time.Millisecond), shortCache(), retries(3))
			if strings.HasPrefix(tc.name, "503") || strings.HasPrefix(tc.name, "429") {
				// The demo's SetFault faults every endpoint; fault only one.
				cold.fault("/api/v1/referential/change_reason", func(w http.ResponseWriter, r *http.Request) {
					ok := demo.New(demo.Sample())
					ok.ServeHTTP(w, r)
				})
			}
			tc.fault(cold)
			r := queryWithin(t, cold, q, 3*time.Second)
			require.Equal(t, http.StatusOK, r.Status)
			require.Len(t, r.Errors, 1, r.Body)
			require.Equal(t, []any{"terminateReasons"}, r.Errors[0].Path)
			require.Equal(t, tc.code, r.Errors[0].Extensions["code"], r.Body)
			var data struct{ TerminateReasons, ChangeReasons []any }
			require.NoError(t, json.Unmarshal(r.Data, &data))
			require.Nil(t, data.TerminateReasons)
			require.Len(t, data.ChangeReasons, 5, "the healthy field keeps its data")
			require.Empty(t, staleOf(t, r.Body))

			// Warm: the expired value answers instead of the error.
			warm := newEnv(t, withTimeout(200*time.Millisecond), shortCache(), retries(3))
			want := warm.mustQuery(t, q, nil)
			time.Sleep(shortTTL + 10*time.Millisecond)
			tc.fault(warm)
			r = queryWithin(t, warm, q, 3*time.Second)
			require.Equal(t, http.StatusOK, r.Status)
			require.Empty(t, r.Errors, r.Body)
			require.JSONEq(t, string(want), string(r.Data))
			stale := staleOf(t, r.Body)
			require.NotEmpty(t, stale, r.Body)
			// The value is as old as the time since it was fetched, retries
			// included: a second or more on a loaded machine, so the age is
			// only checked to be sane, and the path and endpoint exactly.
			i := slices.IndexFunc(stale, func(s staleInfo) bool { return s.Endpoint == "terminate_reason" })
			require.GreaterOrEqual(t, i, 0, r.Body)
			require.Equal(t, []any{"terminateReasons"}, stale[i].Path)
			require.True(t, stale[i].AgeSeconds >= 0 && stale[i].AgeSeconds < 60, r.Body)
			require.NotZero(t, warm.cache.Stats().Stale)

			// The gateway stays up and recovers once the fault is gone.
			for _, e := range []*env{cold, warm} {
				e.fault(reasonsPath, nil)
				e.fault("/api/v1/referential/change_reason", nil)
				e.demo.SetFault(demo.Fault{})
				time.Sleep(shortTTL + 10*time.Millisecond)
				r := e.query(t, q, nil)
				require.Empty(t, r.Errors, r.Body)
				require.Empty(t, staleOf(t, r.Body))
			}
		})
	}
}

// queryWithin is query with a client-side deadline: the gateway must answer
// within it, whatever the upstream does.
func queryWithin(t testing.TB, e *env, query string, d time.Duration) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return queryCtx(t, ctx, e, query, "")
}

// queryCtx posts a query with ctx and, when set, a bearer token.
func queryCtx(t testing.TB, ctx context.Context, e *env, query, token string) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.gateway.URL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the gateway must answer within its deadline")
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{Status: resp.StatusCode, Body: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return out
}

// TestSlowUpstreamWithinTimeout shows slow answers are waited for, not
// turned into errors, and cached once.
func TestSlowUpstreamWithinTimeout(t *testing.T) {
	e := newEnv(t, withTimeout(time.Second), withCache(cache.Config{}), withDemo(demo.WithLatency(100*time.Millisecond)))
	want := e.mustQuery(t, `{ terminateReasons { code } }`, nil)
	r := queryWithin(t, e, `{ terminateReasons { code } }`, 3*time.Second)
	require.Empty(t, r.Errors, r.Body)
	require.JSONEq(t, string(want), string(r.Data))
	require.EqualValues(t, 1, e.demo.Calls("terminate_reason"), "the second answer came from the cache")
}

// TestFlappingUpstream fails every other upstream request: retries absorb
// it without a cache, and stale data covers it when retries are off.
func TestFlappingUpstream(t *testing.T) {
	flap := func(e *env) {
		var n atomic.Int64
		e.fault(reasonsPath, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			e.demo.ServeHTTP(w, r)
		})
	}
	t.Run("retries absorb it", func(t *testing.T) {
		e := newEnv(t, retries(3))
		flap(e)
		for range 6 {
			e.mustQuery(t, `{ terminateReasons { code } }`, nil)
		}
		require.Len(t, e.upstream(), 11, "5 of the 6 first tries failed and were retried once")
	})
	t.Run("stale covers it without retries", func(t *testing.T) {
		e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Millisecond}))
		flap(e)
		stale := 0
		for range 6 {
			time.Sleep(2 * time.Millisecond)
			r := e.query(t, `{ terminateReasons { code } }`, nil)
			require.Empty(t, r.Errors, r.Body)
			stale += len(staleOf(t, r.Body))
		}
		require.Equal(t, 3, stale, "every failed refresh was answered from stale data")
		require.EqualValues(t, 3, e.cache.Stats().Stale)
	})
}

// TestCircuitBreakerFailsFastAndServesStale opens the breaker with
// consecutive 503s, then checks that requests no longer reach Covage and are
// answered from stale data, or fail fast with UPSTREAM_UNAVAILABLE.
func TestCircuitBreakerFailsFastAndServesStale(t *testing.T) {
	e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Millisecond}), withClient(func(c *covage.Config) {
		c.BreakerFailures = 2
		c.BreakerCooldown = time.Hour
	}))
	e.mustQuery(t, `{ terminateReasons { code } }`, nil)
	e.fault(reasonsPath, status(http.StatusServiceUnavailable, `{}`))
	for range 2 {
		time.Sleep(2 * time.Millisecond)
		r := e.query(t, `{ terminateReasons { code } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Len(t, staleOf(t, r.Body), 1)
	}
	e.upstream()
	for range 3 {
		time.Sleep(2 * time.Millisecond)
		r := e.query(t, `{ terminateReasons { code } changeReasons { code } }`, nil)
		require.Empty(t, r.Errors, r.Body, "stale data answers while the circuit is open")
	}
	calls := e.upstream()
	require.Len(t, calls, 3)
	for _, c := range calls {
		require.Contains(t, c, "change_reason", "terminate_reason failed fast, without calling Covage")
	}

	// With nothing cached, the open circuit is an outage.
	e2 := newEnv(t, withClient(func(c *covage.Config) { c.BreakerFailures = 1; c.BreakerCooldown = time.Hour }))
	e2.fault(reasonsPath, status(http.StatusServiceUnavailable, `{}`))
	e2.query(t, `{ terminateReasons { code } }`, nil)
	e2.upstream()
	r := e2.query(t, `{ terminateReasons { code } }`, nil)
	require.Len(t, r.Errors, 1, r.Body)
	require.Equal(t, "UPSTREAM_UNAVAILABLE", r.Errors[0].Extensions["code"])
	require.Empty(t, e2.upstream(), "the open circuit answered without calling Covage")
}

// TestLoadCoalescing is the coalescing figure: 50 concurrent identical
// requests against a 200ms upstream cost one upstream request with the
// shared cache, and one each without it. Run it with go test -run Load -v
// to see the timings it logs.
func TestLoadCoalescing(t *testing.T) {
	const n = 50
	tests := []struct {
		name      string
		opts      []option
		wantCalls int64
	}{
		{"shared cache", []option{withCache(cache.Config{})}, 1},
		{"no shared cache", nil, n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, append(tc.opts, withDemo(demo.WithLatency(200*time.Millisecond)))...)
			start := time.Now()
			var wg sync.WaitGroup
			bodies := make([]response, n)
			for i := range n {
				wg.Go(func() {
					bodies[i] = queryWithin(t, e, `{ ennis { reference } }`, 10*time.Second)
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			for _, b := range bodies {
				require.Empty(t, b.Errors, b.Body)
				require.JSONEq(t, string(bodies[0].Data), string(b.Data))
			}
			require.Equal(t, tc.wantCalls, e.demo.Calls("enni"))
			t.Logf("%d concurrent requests, 200ms upstream: %d upstream calls, max %d in flight, %s wall clock",
				n, e.demo.Calls("enni"), e.demo.MaxInFlight("enni"), elapsed)
			if e.cache != nil {
				t.Logf("cache stats: %+v", e.cache.Stats())
			}
		})
	}
}

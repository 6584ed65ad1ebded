package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// respEvents records the response cache's hits and misses.
type respEvents struct {
	mu     sync.Mutex
	events []string
}

func (r *respEvents) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events since the last call.
func (r *respEvents) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func withResponseCache(ev *respEvents, maxBytes int64) option {
	return withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: maxBytes, OnEvent: ev.add}
	})
}

// TestResponseCacheServesRepeats checks a repeated query is answered from
// the response cache, byte for byte, without Covage or the shared cache,
// and that the operation, the variables and the operation name are part of
// the key.
func TestResponseCacheServesRepeats(t *testing.T) {
	ev := &respEvents{}
	e := newEnv(t, withCache(cache.Config{}), withResponseCache(ev, 1<<20))
	const reasons = `{ terminateReasons { code label } changeReasons { code label } }`
	first := e.query(t, reasons, nil)
	require.Empty(t, first.Errors)
	require.Len(t, e.upstream(), 2)
	require.Equal(t, []string{"miss"}, ev.take())
	hits := e.cache.Stats().Hits

	second := e.query(t, reasons, nil)
	require.Equal(t, first.Body, second.Body)
	require.Empty(t, e.upstream())
	require.Equal(t, []string{"hit"}, ev.take())
	require.Equal(t, hits, e.cache.Stats().Hits, "a hit does not even read the shared cache's values")

	const byCode = `query P($c: String!) { project(code: $c) { code } }`
	flash := e.query(t, byCode, map[string]any{"c": "FLASH"})
	other := e.query(t, byCode, map[string]any{"c": "FLASH-2"})
	require.NotEqual(t, flash.Body, other.Body)
	again := e.query(t, byCode, map[string]any{"c": "FLASH"})
	require.Equal(t, flash.Body, again.Body)
	require.Equal(t, []string{"miss", "miss", "hit"}, ev.take())

	const twoOps = `query A { terminateReasons { code } } query B { changeReasons { code } }`
	for _, op := range []string{"A", "B", "A"} {
		r := e.send(t, request{header: jsonHeader, body: jsonBody(t, map[string]any{"query": twoOps, "operationName": op})})
		require.Empty(t, r.errors, r.body)
	}
	require.Equal(t, []string{"miss", "miss", "hit"}, ev.take())
}

// TestResponseCacheFollowsTheSharedCache checks an answer is reused only
// while the shared-cache entries it was built from are fresh: once one
// expires, the query runs again and reads Covage again.
func TestResponseCacheFollowsTheSharedCache(t *testing.T) {
	ev := &respEvents{}
	// The shared cache's clock only moves when the test says so: a loaded
	// machine cannot expire the entries between the first two queries.
	clk := &testClock{t: time.Now()}
	const ttl = time.Minute
	e := newEnv(t, withCache(cache.Config{DefaultTTL: ttl, Now: clk.Now}), withResponseCache(ev, 1<<20))
	const q = `{ projects { code ennis { reference } } }`
	e.mustQuery(t, q, nil)
	e.mustQuery(t, q, nil)
	require.Equal(t, []string{"miss", "hit"}, ev.take())
	require.Len(t, e.upstream(), 2)

	clk.add(ttl + time.Second)
	e.mustQuery(t, q, nil)
	require.Equal(t, []string{"miss"}, ev.take())
	require.ElementsMatch(t, []string{upProjects, upEnnis}, e.upstream(), "the expired entries are read again")
}

// TestResponseCacheKeepsOnlyCleanAnswers checks what is never kept: an
// answer with errors, one built from a read the shared cache does not keep
// (a missing billing site), and one larger than an eighth of the budget.
func TestResponseCacheKeepsOnlyCleanAnswers(t *testing.T) {
	ev := &respEvents{}
	e := newEnv(t, withCache(cache.Config{}), withResponseCache(ev, 1<<20))

	e.fault("/api/v1/referential/enni", status(http.StatusBadGateway, ""))
	for range 2 {
		r := e.query(t, `{ ennis { reference } }`, nil)
		require.NotEmpty(t, r.Errors)
	}
	require.Equal(t, []string{"miss", "miss"}, ev.take())

	for range 2 {
		r := e.query(t, `{ billingSite(code: "NOPE") { code } }`, nil)
		require.Empty(t, r.Errors)
	}
	require.Equal(t, []string{"miss", "miss"}, ev.take())

	small := newEnv(t, withCache(cache.Config{}), withResponseCache(ev, 8*100))
	for range 2 {
		small.mustQuery(t, `{ projects { code } }`, nil) // more than 100 bytes
	}
	require.Equal(t, []string{"miss", "miss"}, ev.take())
}

// TestResponseCacheSeparatesCredentials checks, in pass-through mode, that
// one caller's answer is never served to another, and that a stale answer
// (Covage down) is not kept.
func TestResponseCacheSeparatesCredentials(t *testing.T) {
	ev := &respEvents{}
	// The shared cache's clock moves only when the test says so, so no
	// entry expires early on a loaded machine.
	clk := &testClock{t: time.Now()}
	const ttl = time.Minute
	e := newEnv(t, withPassThrough(), withCache(cache.Config{DefaultTTL: ttl, Now: clk.Now}), withResponseCache(ev, 1<<20))
	other := demo.New(demo.Generate(1, 2, 1))
	var down atomic.Bool
	e.fault("/api/v1/referential/enni", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.Header.Get("Authorization") == "Bearer bob-token":
			other.ServeHTTP(w, r)
		default:
			e.demo.ServeHTTP(w, r)
		}
	})
	const q = `{ ennis { reference } }`
	ctx := context.Background()
	alice := queryCtx(t, ctx, e, q, "Bearer alice-token")
	bob := queryCtx(t, ctx, e, q, "Bearer bob-token")
	require.NotEqual(t, string(alice.Data), string(bob.Data))
	require.Equal(t, []string{"miss", "miss"}, ev.take())
	require.Equal(t, alice.Body, queryCtx(t, ctx, e, q, "Bearer alice-token").Body)
	require.Equal(t, bob.Body, queryCtx(t, ctx, e, q, "Bearer bob-token").Body)
	require.Equal(t, []string{"hit", "hit"}, ev.take())

	clk.add(ttl + time.Second)
	down.Store(true)
	for range 2 {
		r := queryCtx(t, ctx, e, q, "Bearer alice-token")
		require.JSONEq(t, string(alice.Data), string(r.Data))
		require.Contains(t, r.Body, `"stale"`)
	}
	require.Equal(t, []string{"miss", "miss"}, ev.take(), "a stale answer is not kept")
}

// TestResponseCacheConcurrent has 16 clients repeat two queries while the
// shared cache expires under them (a 30 ms TTL) and Covage's answer changes
// with every call: each call of terminate_reason returns a new generation.
// No answer may be older than one a client has already received before the
// request began: once generation g has been served, the shared cache never
// holds an older entry, so a reuse of an older answer is a stale reuse. The
// other query's answer never changes and must come back byte for byte; the
// race detector sees the cache shared.
func TestResponseCacheConcurrent(t *testing.T) {
	ev := &respEvents{}
	// Client 0 moves the shared cache's clock past the TTL after each of
	// its requests, so entries expire while the others read, however fast
	// or slow the machine is.
	clk := &testClock{t: time.Now()}
	const ttl = time.Minute
	e := newEnv(t, withCache(cache.Config{DefaultTTL: ttl, Now: clk.Now}), withResponseCache(ev, 1<<20))
	var generation atomic.Int64
	e.fault(reasonsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"terminate_reasons": ["gen %d"]}`, generation.Add(1))
	})
	const reasons, projects = `{ terminateReasons { label } }`, `{ projects { code ennis { reference } } }`
	wantProjects := e.query(t, projects, nil).Body
	var seen atomic.Int64 // the newest generation any client has received
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			for i := range 20 {
				q := reasons
				if (c+i)%2 == 1 {
					q = projects
				}
				floor := seen.Load()
				body, _ := json.Marshal(map[string]string{"query": q})
				resp, err := http.Post(e.gateway.URL+"/query", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Error(err)
					return
				}
				if c == 0 {
					clk.add(ttl + time.Second)
				}
				if q == projects {
					if string(got) != wantProjects {
						t.Errorf("client %d, request %d: %s", c, i, got)
						return
					}
					continue
				}
				var g int64
				if _, err := fmt.Sscanf(string(got), `{"data":{"terminateReasons":[{"label":"gen %d"}]}}`, &g); err != nil {
					t.Errorf("client %d, request %d: %v %s", c, i, err, got)
					return
				}
				if g < floor {
					t.Errorf("client %d, request %d: generation %d served after generation %d was: a stale reuse", c, i, g, floor)
					return
				}
				for m := seen.Load(); g > m && !seen.CompareAndSwap(m, g); m = seen.Load() {
				}
			}
		})
	}
	wg.Wait()
	events := ev.take()
	require.Contains(t, events, "hit")
	require.Contains(t, events, "miss")
	require.Greater(t, seen.Load(), int64(1), "Covage's answer changed during the test")
}

package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
)

// TestPassThroughRefusedTokens checks pass-through mode against a Covage
// that accepts one token: a flood of a bad token costs Covage one call, and
// once Covage refuses a token it once accepted, neither fresh nor stale
// cached data is served to it, even when Covage then goes down.
func TestPassThroughRefusedTokens(t *testing.T) {
	const q = `{ terminateReasons { code } }`
	// Entries expire fast so the revocation is seen by a real call; the
	// test waits past the TTL, which can only make expiry more certain.
	const ttl = 20 * time.Millisecond
	e := newEnv(t, withPassThrough(), withBearerVerification(), withCache(cache.Config{DefaultTTL: ttl}))
	var mu sync.Mutex
	calls := map[string]int{}
	var revoked, down atomic.Bool
	e.fault("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		mu.Lock()
		calls[auth]++
		mu.Unlock()
		switch {
		case down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		case auth != "Bearer alice-token" || revoked.Load():
			w.WriteHeader(http.StatusUnauthorized)
		default:
			e.demo.ServeHTTP(w, r)
		}
	})
	callsOf := func(auth string) int { mu.Lock(); defer mu.Unlock(); return calls[auth] }

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r := queryCtx(t, context.Background(), e, q, "Bearer mallory-token")
			require.Equal(t, http.StatusUnauthorized, r.Status, r.Body)
			require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Extensions["code"])
		})
	}
	wg.Wait()
	require.Equal(t, 1, callsOf("Bearer mallory-token"), "50 requests with one bad token cost Covage one call")

	alice := queryCtx(t, context.Background(), e, q, "Bearer alice-token")
	require.Empty(t, alice.Errors, alice.Body)

	// Covage revokes alice's token. Her verdict is still fresh, so the next
	// request reaches the cache, whose expired entry is refreshed, refused,
	// and dropped.
	revoked.Store(true)
	time.Sleep(2 * ttl)
	r := queryCtx(t, context.Background(), e, q, "Bearer alice-token")
	require.NotEmpty(t, r.Errors, r.Body)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Extensions["code"], r.Body)

	// Covage goes down: what was cached for alice is gone, so she gets the
	// outage, not stale data.
	down.Store(true)
	r = queryCtx(t, context.Background(), e, q, "Bearer alice-token")
	require.NotEmpty(t, r.Errors, r.Body)
	require.Equal(t, "UPSTREAM_UNAVAILABLE", r.Errors[0].Extensions["code"], r.Body)
	require.False(t, strings.Contains(r.Body, `"stale"`), r.Body)
}

// TestPassThroughCredentials checks pass-through mode: no token, no
// upstream call; each caller's token reaches Covage; and the shared cache
// never gives one caller another's data, fresh or stale.
func TestPassThroughCredentials(t *testing.T) {
	const q = `{ ennis { reference } }`
	// The shared cache's clock moves only when the test says so, so no
	// entry expires early on a loaded machine.
	clk := &testClock{t: time.Now()}
	const ttl = time.Minute
	e := newEnv(t, withPassThrough(), withCache(cache.Config{DefaultTTL: ttl, Now: clk.Now}))
	other := demo.New(demo.Generate(1, 2, 1))
	var down atomic.Bool
	var mu sync.Mutex
	seen := map[string]int{}
	e.fault("/api/v1/referential/enni", func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		mu.Lock()
		seen[auth]++
		mu.Unlock()
		switch {
		case down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		case auth == "Bearer bob-token":
			other.ServeHTTP(w, r)
		default:
			e.demo.ServeHTTP(w, r)
		}
	})

	for _, header := range []string{"", "Basic YWxpY2U6cHc=", "Bearer", "Bearer  "} {
		r := queryCtx(t, context.Background(), e, q, header)
		require.Equal(t, http.StatusUnauthorized, r.Status, "header %q", header)
		require.Len(t, r.Errors, 1)
		require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Extensions["code"])
	}
	require.Empty(t, e.upstream(), "a request without a credential never reaches Covage")

	alice := queryCtx(t, context.Background(), e, q, "Bearer alice-token")
	bob := queryCtx(t, context.Background(), e, q, "Bearer bob-token")
	require.Empty(t, alice.Errors, alice.Body)
	require.Empty(t, bob.Errors, bob.Body)
	require.NotEqual(t, string(alice.Data), string(bob.Data))
	require.Equal(t, map[string]int{"Bearer alice-token": 1, "Bearer bob-token": 1}, seen,
		"each caller's own token, once each")

	again := queryCtx(t, context.Background(), e, q, "Bearer alice-token")
	require.JSONEq(t, string(alice.Data), string(again.Data))
	require.Equal(t, 1, seen["Bearer alice-token"], "alice's second request came from the cache")

	// Covage goes down: alice and bob each get their own stale data, and a
	// caller the cache has never seen gets an error, not theirs.
	clk.add(ttl + time.Second)
	down.Store(true)
	for _, c := range []struct {
		token string
		want  response
	}{{"Bearer alice-token", alice}, {"Bearer bob-token", bob}} {
		r := queryCtx(t, context.Background(), e, q, c.token)
		require.Empty(t, r.Errors, r.Body)
		require.JSONEq(t, string(c.want.Data), string(r.Data))
		require.Len(t, staleOf(t, r.Body), 1)
	}
	carol := queryCtx(t, context.Background(), e, q, "Bearer carol-token")
	require.Len(t, carol.Errors, 1, carol.Body)
	require.Equal(t, "UPSTREAM_UNAVAILABLE", carol.Errors[0].Extensions["code"])
	require.NotContains(t, carol.Body, "CN")
}

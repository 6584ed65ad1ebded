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

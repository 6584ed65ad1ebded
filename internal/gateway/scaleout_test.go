package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

const ennisQuery = `{ ennis { reference label } }`

// burst sends per concurrent identical requests to every replica at once
// and returns the answers.
func (f *fleet) burst(t *testing.T, query string, per int) []response {
	t.Helper()
	var wg sync.WaitGroup
	out := make([]response, len(f.replicas)*per)
	errs := make([]error, len(out))
	for i, r := range f.replicas {
		for j := range per {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				k := i*per + j
				out[k], errs[k] = r.post(ctx, map[string]any{"query": query}, "")
				if errs[k] == nil {
					errs[k] = ok(out[k])
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, o := range out {
		require.JSONEq(t, string(out[0].Data), string(o.Data))
	}
	return out
}

// TestScaleOutCoalescing is item 3 of issue 12: replicas × 20 concurrent
// identical cold requests against a 200 ms upstream cost Covage one call
// with Redis, whatever the number of replicas; without it, one per
// replica.
func TestScaleOutCoalescing(t *testing.T) {
	const per = 20
	for _, tc := range []struct {
		replicas int
		noRedis  bool
		want     int64
	}{
		{1, false, 1}, {2, false, 1}, {3, false, 1},
		{3, true, 3},
	} {
		t.Run(fmt.Sprintf("%d replicas, redis %v", tc.replicas, !tc.noRedis), func(t *testing.T) {
			f := newFleet(t, tc.replicas, fleetConfig{latency: 200 * time.Millisecond, noRedis: tc.noRedis})
			start := time.Now()
			f.burst(t, ennisQuery, per)
			require.Equal(t, tc.want, f.calls(), "upstream calls")
			t.Logf("%d replicas × %d concurrent cold requests, 200ms upstream: %d upstream calls, %s wall clock",
				tc.replicas, per, f.calls(), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestScaleOutSharedCache is item 2: a value fetched by one replica is
// served by another from Redis, once, with its fetch time, under a key
// that names the codec version, the endpoint, the credential identity and
// the canonical query, and with a TTL of fresh plus stale time; and a
// replica started while Covage is down serves the stale value from Redis.
func TestScaleOutSharedCache(t *testing.T) {
	// The replicas' cache clock moves only when the test says so, so the
	// value cannot expire early on a loaded machine.
	clk := &testClock{t: time.Now()}
	const ttl = time.Minute
	var down atomic.Bool
	f := newFleet(t, 1, fleetConfig{ttl: ttl, stale: time.Hour, now: clk.Now, front: func(w http.ResponseWriter, r *http.Request, d *demo.Server) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		d.ServeHTTP(w, r)
	}})
	first := f.replicas[0].ask(t, `{ ennis(filter: {active: true}) { reference label offer } }`, "")
	require.NoError(t, ok(first))
	require.EqualValues(t, 1, f.calls())

	// A second replica, with an empty in-process cache, reads Redis.
	second := f.add(t).ask(t, `{ ennis(filter: {active: true}) { reference label offer } }`, "")
	require.NoError(t, ok(second))
	require.JSONEq(t, string(first.Data), string(second.Data))
	require.EqualValues(t, 1, f.calls(), "the second replica was answered by Redis")

	rc := f.client(t)
	ctx := context.Background()
	keys, err := rc.Keys(ctx, "covage:cache:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1, "one value, stored once")
	key := keys[0]
	require.Regexp(t, `^covage:cache:\{b1-[0-9a-f]{8}:enni\|none\|active=true\}$`, key)
	pttl, err := rc.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, pttl, time.Hour-time.Minute, "kept for the fresh and the stale time")
	require.LessOrEqual(t, pttl, time.Hour+ttl)
	fields, err := rc.HGetAll(ctx, key).Result()
	require.NoError(t, err)
	require.NotEmpty(t, fields["t"], "the fetch time")
	require.NotContains(t, fields["d"], `"reference"`, "not JSON")
	// Compact: smaller than Covage's JSON for the same list, read here
	// straight from the demo (the call count is not checked after this).
	raw, err := http.Get(f.upstream.URL + "/api/v1/referential/enni/?active=true")
	require.NoError(t, err)
	covageJSON := readAll(t, raw)
	require.Contains(t, covageJSON, `"reference"`)
	require.Less(t, len(fields["d"]), len(covageJSON), "compact")
	t.Logf("enni?active=true: %d bytes in Redis, %d bytes of Covage JSON", len(fields["d"]), len(covageJSON))

	// Covage goes down and the value expires; a replica that starts now has
	// nothing in memory and serves the stale value from Redis.
	clk.add(ttl + time.Second)
	down.Store(true)
	third := f.add(t).ask(t, `{ ennis(filter: {active: true}) { reference label offer } }`, "")
	require.Empty(t, third.Errors, third.Body)
	require.JSONEq(t, string(first.Data), string(third.Data))
	stale := staleOf(t, third.Body)
	require.Len(t, stale, 1, third.Body)
	require.Equal(t, "enni", stale[0].Endpoint)
}

// TestScaleOutPersistedQueries is item 4: an APQ hash registered through
// one replica is served by the others, and a text in Redis that does not
// match its hash is never run.
func TestScaleOutPersistedQueries(t *testing.T) {
	f := newFleet(t, 3, fleetConfig{})
	query := `{ terminateReasons { code label } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	ctx := context.Background()

	byHash := func(r *replica) response {
		out, err := r.post(ctx, map[string]any{"extensions": ext}, "")
		require.NoError(t, err)
		return out
	}
	notFound := byHash(f.replicas[1])
	require.Len(t, notFound.Errors, 1)
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", notFound.Errors[0].Extensions["code"])

	reg, err := f.replicas[0].post(ctx, map[string]any{"query": query, "extensions": ext}, "")
	require.NoError(t, err)
	require.NoError(t, ok(reg))
	for _, r := range f.replicas[1:] {
		got := byHash(r)
		require.NoError(t, ok(got))
		require.JSONEq(t, string(reg.Data), string(got.Data))
	}

	// A tampered Redis cannot make the hash run another query.
	rc := f.client(t)
	require.NoError(t, rc.Set(ctx, "covage:apq:"+hash, `{ changeReasons { label } }`, time.Hour).Err())
	fresh := f.add(t)
	tampered := byHash(fresh)
	require.Len(t, tampered.Errors, 1, tampered.Body)
	require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", tampered.Errors[0].Extensions["code"])
}

// TestScaleOutRateLimit is item 5: one budget per client across replicas,
// and the local limiters when Redis is gone.
func TestScaleOutRateLimit(t *testing.T) {
	// One request per 100 s: no token comes back during the test.
	const burst = 3
	f := newFleet(t, 3, fleetConfig{rateLimit: gateway.RateLimit{RPS: 0.01, Burst: burst}})
	send := func() (allowed int) {
		for i := range 3 * burst {
			out := f.replicas[i%3].ask(t, `{ terminateReasons { label } }`, "Bearer same-client")
			switch out.Status {
			case http.StatusOK:
				allowed++
			case http.StatusTooManyRequests:
				require.Equal(t, "TOO_MANY_REQUESTS", out.Errors[0].Extensions["code"])
			default:
				t.Fatalf("status %d: %s", out.Status, out.Body)
			}
		}
		return allowed
	}
	require.Equal(t, burst, send(), "one budget across three replicas")

	// Redis gone: each replica's local limiter grants its own budget.
	f.redis.Kill()
	require.Equal(t, 3*burst, send(), "local budgets while Redis is down")
}

// TestScaleOutTenantIsolation is item 7: in pass-through mode a value
// fetched with one token is never served to another, through Redis, and
// no token reaches Redis or a log line.
func TestScaleOutTenantIsolation(t *testing.T) {
	other := demo.New(demo.Generate(1, 2, 1))
	f := newFleet(t, 3, fleetConfig{passThrough: true, front: func(w http.ResponseWriter, r *http.Request, d *demo.Server) {
		switch r.Header.Get("Authorization") {
		case "Bearer alice-token-0123456789":
			d.ServeHTTP(w, r)
		case "Bearer bob-token-0123456789":
			other.ServeHTTP(w, r)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}})
	alice := f.replicas[0].ask(t, ennisQuery, "Bearer alice-token-0123456789")
	require.NoError(t, ok(alice))
	again := f.replicas[1].ask(t, ennisQuery, "Bearer alice-token-0123456789")
	require.JSONEq(t, string(alice.Data), string(again.Data))
	require.Equal(t, 1, f.seen("Bearer alice-token-0123456789"), "alice's second request, on another replica, came from Redis")

	bob := f.replicas[1].ask(t, ennisQuery, "Bearer bob-token-0123456789")
	require.NoError(t, ok(bob))
	require.NotEqual(t, string(alice.Data), string(bob.Data))
	mallory := f.replicas[2].ask(t, ennisQuery, "Bearer mallory-token-0123456789")
	require.Len(t, mallory.Errors, 1, mallory.Body)
	require.Equal(t, "UNAUTHENTICATED", mallory.Errors[0].Extensions["code"])
	require.NotContains(t, mallory.Body, "CN", "no one else's data")

	// A persisted query registered by alice runs, for anyone else, with
	// their own token: bob gets his data, mallory none.
	sum := sha256.Sum256([]byte(ennisQuery))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	ctx := context.Background()
	reg, err := f.replicas[0].post(ctx, map[string]any{"query": ennisQuery, "extensions": ext}, "Bearer alice-token-0123456789")
	require.NoError(t, err)
	require.JSONEq(t, string(alice.Data), string(reg.Data))
	bobAPQ, err := f.replicas[1].post(ctx, map[string]any{"extensions": ext}, "Bearer bob-token-0123456789")
	require.NoError(t, err)
	require.JSONEq(t, string(bob.Data), string(bobAPQ.Data))
	malAPQ, err := f.replicas[2].post(ctx, map[string]any{"extensions": ext}, "Bearer mallory-token-0123456789")
	require.NoError(t, err)
	require.Len(t, malAPQ.Errors, 1, malAPQ.Body)
	require.Equal(t, "UNAUTHENTICATED", malAPQ.Errors[0].Extensions["code"])

	// Nothing of a token in Redis: keys and values.
	rc := f.client(t)
	values := func() (values []string) {
		keys, err := rc.Keys(ctx, "covage:cache:*").Result()
		require.NoError(t, err)
		for _, k := range keys {
			if !strings.HasSuffix(k, ":lease") { // mallory's failed fetch left one
				values = append(values, k)
			}
		}
		return values
	}
	// Values are stored just after their callers have them.
	waitFor(t, "alice's and bob's values", func() bool { return len(values()) >= 2 })
	require.Len(t, values(), 2)
	all, err := rc.Keys(ctx, "*").Result()
	require.NoError(t, err)
	for _, k := range all {
		v, _ := rc.HGet(ctx, k, "d").Result()
		if apq, err := rc.Get(ctx, k).Result(); err == nil {
			v = apq
		}
		for _, secret := range []string{"alice-token", "bob-token", "mallory-token"} {
			require.NotContains(t, k, secret)
			require.NotContains(t, v, secret)
		}
	}
	for _, r := range f.replicas {
		for _, secret := range []string{"alice-token", "bob-token", "mallory-token"} {
			require.NotContains(t, r.log.String(), secret)
		}
	}
}

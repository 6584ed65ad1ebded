package gateway_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/health"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/redistest"
	"github.com/covage/gateway/internal/shared"
	"github.com/covage/gateway/internal/telemetry"
)

// fleet is several gateway replicas, each with its own in-process cache
// and its own connection to one real redis-server, in front of one demo
// upstream whose call counters say what Covage would have seen.
type fleet struct {
	cfg      fleetConfig
	demo     *demo.Server
	upstream *httptest.Server
	redis    *redistest.Server
	replicas []*replica

	mu   sync.Mutex
	auth map[string]int // Authorization headers Covage received
}

type fleetConfig struct {
	// latency delays every upstream answer.
	latency time.Duration
	// ttl and stale are the cache's times; 5m and 24h when zero, as the
	// gateway's settings default to (cache.Config's zero StaleTTL is never).
	ttl, stale time.Duration
	// redisTimeout bounds each Redis operation; 1s when zero, with 3s
	// leases, so that a loaded test machine never turns a slow answer into
	// a fallback; otherwise leases take the production default.
	redisTimeout time.Duration
	// noRedis runs the replicas without the shared layer.
	noRedis bool
	// passThrough forwards each caller's token.
	passThrough bool
	// rateLimit is each replica's rate limit.
	rateLimit gateway.RateLimit
	// front, when set, answers upstream data requests instead of the demo.
	front func(w http.ResponseWriter, r *http.Request, d *demo.Server)
	// now, when set, is every replica's cache clock, so a test can expire
	// entries without sleeping.
	now func() time.Time
}

// replica is one gateway process.
type replica struct {
	url     string
	cache   *cache.Cache
	redis   *shared.Redis
	log     *lockedWriter
	metrics *telemetry.Metrics
}

func newFleet(t testing.TB, n int, cfg fleetConfig) *fleet {
	t.Helper()
	f := &fleet{cfg: cfg, demo: demo.New(demo.Sample(), demo.WithLatency(cfg.latency)), auth: map[string]int{}}
	if !cfg.noRedis {
		f.redis = redistest.Start(t)
	}
	f.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth[r.Header.Get("Authorization")]++
		f.mu.Unlock()
		if cfg.front != nil {
			cfg.front(w, r, f.demo)
			return
		}
		f.demo.ServeHTTP(w, r)
	}))
	t.Cleanup(f.upstream.Close)
	for range n {
		f.add(t)
	}
	return f
}

// add starts one more replica, with an empty in-process cache.
func (f *fleet) add(t testing.TB) *replica {
	t.Helper()
	r := &replica{log: &lockedWriter{w: &bytes.Buffer{}}}
	r.metrics = telemetry.NewMetrics(prometheus.NewRegistry(), telemetry.BuildInfo{})
	logger := slog.New(slog.NewJSONHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := covage.New(covage.Config{BaseURL: f.upstream.URL, Timeout: 5 * time.Second, Logger: logger, MaxAttempts: 1})
	require.NoError(t, err)
	cc := cache.Config{DefaultTTL: f.cfg.ttl, StaleTTL: cmp.Or(f.cfg.stale, cache.DefaultStaleTTL), Now: f.cfg.now}
	sec := gateway.Security{RateLimit: f.cfg.rateLimit}
	ready := health.Readiness{}
	if f.redis != nil {
		// Tests that count calls give Redis and leases room on a loaded
		// machine; the fault tests use the production defaults.
		timeout, lease := f.cfg.redisTimeout, time.Duration(0)
		if timeout == 0 {
			timeout, lease = time.Second, 3*time.Second
		}
		ops := telemetry.NewRedisOps(r.metrics)
		r.redis, err = shared.New(shared.Config{URL: f.redis.URL(), Timeout: timeout, ProbeInterval: 20 * time.Millisecond, Logger: logger, OnOp: ops.Observe})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.redis.Close() })
		cc.Shared = cache.SharedConfig{Level: shared.NewCache(r.redis, 0), LeaseTTL: lease}
		sec.APQCache = shared.NewAPQ(r.redis, lru.New[string](100), time.Hour, 1<<20)
		if f.cfg.rateLimit.RPS > 0 {
			sec.GlobalRateLimit = shared.NewRateLimit(r.redis, f.cfg.rateLimit.RPS, f.cfg.rateLimit.Burst)
		}
		ready.Dependencies = []health.Check{{Name: "redis", Run: r.redis.Check}}
	}
	r.cache, err = cache.New(client, cc)
	require.NoError(t, err)
	srv := httptest.NewServer(gateway.New(gateway.Options{
		Upstream:    r.cache,
		Loaders:     loaders.Config{IsNotFound: func(err error) bool { return errors.Is(err, covage.ErrNotFound) }},
		Logger:      logger,
		Security:    sec,
		PassThrough: f.cfg.passThrough,
		Metrics:     r.metrics,
		Ready:       ready,
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	f.replicas = append(f.replicas, r)
	return r
}

// seen is how many upstream requests carried the Authorization header h.
func (f *fleet) seen(h string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.auth[h]
}

// calls is how many data requests Covage served.
func (f *fleet) calls() int64 { return f.demo.Total() }

// client reads Redis directly, to look at what the gateway stored.
func (f *fleet) client(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: f.redis.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// post sends a GraphQL request to the replica; it never fails the test
// itself, so goroutines can use it, but reports what went wrong.
func (r *replica) post(ctx context.Context, body map[string]any, auth string) (response, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/query", bytes.NewReader(raw))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	out := response{Status: resp.StatusCode, Body: string(b)}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("status %d, body %q: %w", resp.StatusCode, b, err)
	}
	return out, nil
}

// ask posts a query and requires an answer.
func (r *replica) ask(t *testing.T, query, auth string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := r.post(ctx, map[string]any{"query": query}, auth)
	require.NoError(t, err)
	return out
}

// ok requires a 200 answer with data and no error.
func ok(out response) error {
	if out.Status != http.StatusOK || len(out.Errors) > 0 || len(out.Data) == 0 || string(out.Data) == "null" {
		return fmt.Errorf("status %d: %s", out.Status, out.Body)
	}
	return nil
}

// metric returns the replica's /metrics lines that start with prefix.
func (r *replica) metric(t *testing.T, prefix string) string {
	t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	require.NoError(t, err)
	var lines []string
	for l := range strings.SplitSeq(readAll(t, resp), "\n") {
		if strings.HasPrefix(l, prefix) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond for up to 10s: for state that settles in the
// background (a reconnection), never for a timing claim.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

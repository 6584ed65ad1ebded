package gateway_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/loaders"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// env is a gateway in front of the demo upstream, both on loopback, with a
// log of every upstream request so tests can count calls.
type env struct {
	demo    *demo.Server
	gateway *httptest.Server
	log     *lockedWriter

	mu       sync.Mutex
	requests []string
	faults   map[string]http.HandlerFunc

	// cache is the shared cache in front of the client, when withCache set one.
	cache *cache.Cache
	// handler is the gateway's handler, for in-process benchmarks.
	handler http.Handler
}

type envConfig struct {
	data       *demo.Dataset
	demoOpts   []demo.Option
	wait       time.Duration
	pool       int
	timeout    time.Duration
	auth       func(base string) covage.Auth
	withDrifts bool
	security   gateway.Security

	// Resilience (faults_test.go).
	client      []func(*covage.Config)
	cache       *cache.Config
	passThrough bool
	// verifyBearer re-verifies pass-through tokens (bearer.go).
	verifyBearer bool

	// Telemetry (telemetry_test.go).
	gatewayOpts []func(*gateway.Options)
}

type option func(*envConfig)

func withData(ds *demo.Dataset) option { return func(c *envConfig) { c.data = ds } }
func withDemo(o ...demo.Option) option {
	return func(c *envConfig) { c.demoOpts = append(c.demoOpts, o...) }
}
func withWait(d time.Duration) option            { return func(c *envConfig) { c.wait = d } }
func withPool(n int) option                      { return func(c *envConfig) { c.pool = n } }
func withTimeout(d time.Duration) option         { return func(c *envConfig) { c.timeout = d } }
func withAuth(f func(string) covage.Auth) option { return func(c *envConfig) { c.auth = f } }

// withSecurity sets the gateway's security options (limits, production
// switches); the default is their zero value, development mode.
func withSecurity(s gateway.Security) option { return func(c *envConfig) { c.security = s } }

// withClient adjusts the covage client's configuration (retries, breaker).
func withClient(f func(*covage.Config)) option {
	return func(c *envConfig) { c.client = append(c.client, f) }
}

// withCache puts the shared cache, configured by cc, between the loaders
// and the client.
// withCache puts the shared cache in front of the client. Its zero
// StaleTTL takes COVAGE_STALE_TTL's default, as the gateway's settings do:
// in cache.Config itself zero means never.
func withCache(cc cache.Config) option {
	cc.StaleTTL = cmp.Or(cc.StaleTTL, cache.DefaultStaleTTL)
	return func(c *envConfig) { c.cache = &cc }
}

// withGateway adjusts the gateway's options (metrics, tracing, readiness).
func withGateway(f func(*gateway.Options)) option {
	return func(c *envConfig) { c.gatewayOpts = append(c.gatewayOpts, f) }
}

// withPassThrough forwards each caller's bearer token to the upstream.
func withPassThrough() option { return func(c *envConfig) { c.passThrough = true } }

// withBearerVerification has pass-through tokens verified by Covage.
func withBearerVerification() option { return func(c *envConfig) { c.verifyBearer = true } }

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	cfg := envConfig{data: demo.Sample(), timeout: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	e := &env{demo: demo.New(cfg.data, cfg.demoOpts...), log: &lockedWriter{w: &bytes.Buffer{}}, faults: map[string]http.HandlerFunc{}}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		if r.URL.Path != demo.TokenPath {
			e.requests = append(e.requests, r.URL.RequestURI())
		}
		fault := e.faultFor(r.URL.Path)
		e.mu.Unlock()
		if fault != nil {
			fault(w, r)
			return
		}
		e.demo.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)

	var auth covage.Auth
	if cfg.auth != nil {
		auth = cfg.auth(upstream.URL)
	}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ccfg := covage.Config{BaseURL: upstream.URL, Timeout: cfg.timeout, Auth: auth, Logger: logger}
	for _, f := range cfg.client {
		f(&ccfg)
	}
	client, err := covage.New(ccfg)
	require.NoError(t, err)
	var up loaders.Upstream = client
	if cfg.cache != nil {
		e.cache, err = cache.New(client, *cfg.cache)
		require.NoError(t, err)
		up = e.cache
	}
	gopts := gateway.Options{
		Upstream: up,
		Loaders: loaders.Config{
			Wait:            cfg.wait,
			BillingSitePool: cfg.pool,
			IsNotFound:      func(err error) bool { return errors.Is(err, covage.ErrNotFound) },
		},
		Logger:   logger,
		Security: cfg.security,

		PassThrough: cfg.passThrough,
	}
	if cfg.verifyBearer {
		gopts.VerifyBearer = client.VerifyBearer
	}
	for _, f := range cfg.gatewayOpts {
		f(&gopts)
	}
	e.handler = gateway.New(gopts)
	e.gateway = httptest.NewServer(e.handler)
	t.Cleanup(e.gateway.Close)
	return e
}

// faultFor returns the fault injected for an upstream path, if any. The
// caller holds e.mu.
func (e *env) faultFor(path string) http.HandlerFunc {
	for prefix, f := range e.faults {
		if strings.HasPrefix(path, prefix) {
			return f
		}
	}
	return nil
}

// fault makes every upstream request whose path starts with prefix answer
// with f instead of the demo.
func (e *env) fault(prefix string, f http.HandlerFunc) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[prefix] = f
}

// upstream returns the upstream requests made so far and forgets them.
func (e *env) upstream() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.requests
	e.requests = nil
	return r
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Locations  []any          `json:"locations"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	Body   string
}

// query posts a GraphQL request and decodes the answer.
func (e *env) query(t testing.TB, query string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	resp, err := http.Post(e.gateway.URL+"/query", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := response{Status: resp.StatusCode, Body: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return out
}

// mustQuery is query for a request that must succeed without errors.
func (e *env) mustQuery(t testing.TB, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	r := e.query(t, query, vars)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Empty(t, r.Errors, r.Body)
	return r.Data
}

// golden compares got with testdata/name.json, or rewrites it with -update.
func golden(t testing.TB, name string, got json.RawMessage) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		var v any
		require.NoError(t, json.Unmarshal(got, &v))
		pretty, err := json.MarshalIndent(v, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(pretty, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./internal/gateway -update")
	require.JSONEq(t, string(want), string(got))
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

// String returns what was logged so far.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

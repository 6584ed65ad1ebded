package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/auth/authtest"
	"github.com/covage/gateway/internal/demo"
)

// gatedUpstream is the demo upstream, except that project lookups wait
// until the test opens the gate: they are the slow requests in flight.
type gatedUpstream struct {
	*httptest.Server
	arrived atomic.Int64
	gate    chan struct{}
}

func newGatedUpstream(t *testing.T) *gatedUpstream {
	t.Helper()
	g := &gatedUpstream{gate: make(chan struct{})}
	d := demo.New(demo.Sample())
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/project") {
			g.arrived.Add(1)
			select {
			case <-g.gate:
			case <-r.Context().Done():
				return
			}
		}
		d.ServeHTTP(w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

// started runs the gateway with env until the test ends or stops it. Its
// listeners are bound on loopback ports the system picks, whatever PORT and
// ADMIN_PORT say; addrs maps each requested address to the bound one.
type started struct {
	stop  context.CancelFunc
	done  chan error
	addrs map[string]string
}

func start(t *testing.T, env map[string]string) *started {
	t.Helper()
	s := &started{done: make(chan error, 1), addrs: map[string]string{}}
	var mu sync.Mutex
	bound := make(chan struct{}, 4)
	listen := func(network, address string) (net.Listener, error) {
		ln, err := net.Listen(network, "127.0.0.1:0")
		if err == nil {
			mu.Lock()
			s.addrs[address] = ln.Addr().String()
			mu.Unlock()
			bound <- struct{}{}
		}
		return ln, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- run(ctx, func(k string) string { return env[k] }, listen) }()
	want := 1
	if env["ADMIN_PORT"] != "" {
		want = 2
	}
	for range want {
		select {
		case <-bound:
		case err := <-s.done:
			t.Fatalf("run stopped before listening: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("the gateway did not listen within 30 s")
		}
	}
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	mu.Lock()
	public := "http://" + s.addrs[":"+env["PORT"]] + "/readyz"
	mu.Unlock()
	// Bound is not yet serving: readiness is 503 until run marks it so.
	require.Eventually(t, func() bool {
		resp, err := http.Get(public)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 2*time.Millisecond, "the gateway is ready")
	return s
}

func (s *started) url(port, path string) string { return "http://" + s.addrs[":"+port] + path }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func postQuery(url, query string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestDrainLosesNoRequest sends SIGTERM (cancels run's context) while slow
// requests are in flight: /readyz turns 503 at once, the listener keeps
// serving new requests during SHUTDOWN_DELAY, and every request in flight
// completes, though the listener closed while they were still held. The
// in-flight requests are held by the upstream until the test releases them,
// so nothing depends on how fast the machine is; the delay only has to
// outlast one loopback request.
func TestDrainLosesNoRequest(t *testing.T) {
	up := newGatedUpstream(t)
	s := start(t, map[string]string{
		"PORT": "18080", "ADMIN_PORT": "18081", "LOG_LEVEL": "error",
		"COVAGE_API_URL": up.URL, "COVAGE_API_TOKEN": "t",
		"SHUTDOWN_DELAY": "3s", "SHUTDOWN_TIMEOUT": "30s",
	})
	query := s.url("18080", "/query")
	status, body := get(t, s.url("18081", "/readyz"))
	require.Equal(t, http.StatusOK, status, body)

	const n = 20
	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			st, b, err := postQuery(query, fmt.Sprintf(`{ project(code: "SLOW-%d") { code } }`, i))
			results <- result{st, b, err}
		}()
	}
	require.Eventually(t, func() bool { return up.arrived.Load() == n }, 30*time.Second, 5*time.Millisecond,
		"all %d requests reach the upstream", n)

	s.stop()
	require.Eventually(t, func() bool {
		st, _ := get(t, s.url("18081", "/readyz"))
		return st == http.StatusServiceUnavailable
	}, 10*time.Second, 5*time.Millisecond, "readiness turns 503 on SIGTERM")
	status, body = get(t, s.url("18080", "/readyz"))
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Contains(t, body, `"draining"`)

	st, b, err := postQuery(query, "{ __typename }")
	require.NoError(t, err, "the listener still serves during SHUTDOWN_DELAY")
	require.Equal(t, http.StatusOK, st, b)

	// The delay ends and the listener closes, with the slow requests still
	// held: they must now be drained, not dropped.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", s.addrs[":18080"])
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	}, 30*time.Second, 5*time.Millisecond, "the listener closes after SHUTDOWN_DELAY")
	require.Len(t, results, 0, "no request in flight has finished yet")
	close(up.gate)
	for range n {
		r := <-results
		require.NoError(t, r.err)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.NotContains(t, r.body, `"errors"`, r.body)
	}
	require.NoError(t, <-s.done, "run returns cleanly")
	s.done <- nil // for the cleanup
	_, err = http.Get(s.url("18080", "/healthz"))
	require.Error(t, err, "the listener is closed after the drain")
}

// TestAdminPort checks where /metrics and /debug/pprof are served: on the
// public port in development without ADMIN_PORT (as before), only on the
// admin port when it is set, and nowhere public in production.
func TestAdminPort(t *testing.T) {
	up := newGatedUpstream(t)
	tests := []struct {
		name              string
		env               map[string]string
		publicOps, admin  bool
		wantPublicMetrics int
	}{
		{"development without admin port", map[string]string{"PPROF": "true"}, true, false, 200},
		{"development with admin port", map[string]string{"PPROF": "true", "ADMIN_PORT": "18081"}, false, true, 404},
		{"production with admin port", map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none", "PPROF": "true", "ADMIN_PORT": "18081"}, false, true, 404},
		{"production without admin port", map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"}, false, false, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PORT": "18080", "LOG_LEVEL": "error", "COVAGE_API_URL": up.URL, "COVAGE_API_TOKEN": "t", "SHUTDOWN_DELAY": "0s"}
			for k, v := range tt.env {
				env[k] = v
			}
			s := start(t, env)
			status, _ := get(t, s.url("18080", "/metrics"))
			require.Equal(t, tt.wantPublicMetrics, status, "public /metrics")
			status, _ = get(t, s.url("18080", "/debug/pprof/"))
			require.Equal(t, tt.publicOps, status == 200, "public pprof")
			status, _ = get(t, s.url("18080", "/readyz"))
			require.Equal(t, 200, status, "readiness stays on the public port")
			if tt.admin {
				for _, path := range []string{"/metrics", "/debug/pprof/", "/healthz", "/readyz"} {
					status, body := get(t, s.url("18081", path))
					require.Equal(t, 200, status, path+": "+body)
				}
				status, _ = get(t, s.url("18081", "/query"))
				require.Equal(t, 404, status, "no GraphQL on the admin port")
			}
		})
	}
}

// TestProductionRefusesDemo checks that production mode without
// COVAGE_API_URL does not start, and says which setting is missing.
func TestProductionRefusesDemo(t *testing.T) {
	err := run(context.Background(), func(k string) string {
		return map[string]string{"GATEWAY_ENV": "production", "AUTH_MODE": "none"}[k]
	}, func(string, string) (net.Listener, error) {
		t.Fatal("nothing may listen")
		return nil, nil
	})
	require.ErrorContains(t, err, "COVAGE_API_URL")
}

// TestCallerAuthWiring runs the gateway in production with JWT and API key
// authentication from the environment, as deploy/kubernetes.yaml does,
// against a test identity provider on loopback.
func TestCallerAuthWiring(t *testing.T) {
	up := newGatedUpstream(t)
	close(up.gate)
	idp := authtest.NewProvider(t)
	s := start(t, map[string]string{
		"PORT": "18080", "LOG_LEVEL": "error", "GATEWAY_ENV": "production", "SHUTDOWN_DELAY": "0s",
		"COVAGE_API_URL": up.URL, "COVAGE_API_TOKEN": "t",
		"AUTH_JWKS_URL": idp.URL(), "AUTH_ISSUER": authtest.Issuer, "AUTH_AUDIENCE": authtest.Audience,
		"AUTH_API_KEYS_FILE": authtest.KeyFile(t, map[string]string{"key-1": "billing"}),
	})
	send := func(header, value string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, s.url("18080", "/query"), strings.NewReader(`{"query":"{ terminateReasons { code } }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, body := send("", "")
	require.Equal(t, http.StatusUnauthorized, status, body)
	require.Contains(t, body, `"UNAUTHENTICATED"`)
	status, body = send("Authorization", "Bearer "+idp.Token(t, "alice", time.Minute, nil))
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, `"errors"`)
	status, body = send("X-API-Key", "key-1")
	require.Equal(t, http.StatusOK, status, body)
}

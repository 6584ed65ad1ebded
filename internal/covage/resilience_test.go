package covage

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// failing answers the first n calls with h, then a valid reason list.
func failing(n int32, h http.HandlerFunc) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			h(w, r)
			return
		}
		serve(http.StatusOK, []byte(`{"terminate_reasons":["Cessation d'activité"]}`))(w, r)
	}
}

func withStatus(status int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	}
}

// resetMidBody sends half a body and drops the connection.
func resetMidBody(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"terminate_reasons\": [\"Cess")
	_ = buf.Flush()
	_ = conn.Close()
}

func fastRetries(n int) func(*Config) {
	return func(c *Config) {
		c.MaxAttempts = n
		c.RetryBaseDelay = time.Millisecond
		c.RetryMaxDelay = 5 * time.Millisecond
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		failures  int32
		handler   http.HandlerFunc
		attempts  int
		wantCalls int
		wantErr   error
	}{
		{"503 then success", 1, withStatus(503, ""), 3, 2, nil},
		{"502 and 504 are retried", 2, withStatus(502, ""), 3, 3, nil},
		{"gives up after max attempts", 5, withStatus(504, ""), 3, 3, ErrUnavailable},
		{"500 is not retried", 1, withStatus(500, ""), 3, 1, ErrUnavailable},
		{"404 is never retried", 1, withStatus(404, ""), 3, 1, ErrNotFound},
		{"400 is not retried", 1, withStatus(400, ""), 3, 1, ErrBadResponse},
		{"403 is not retried", 1, withStatus(403, ""), 3, 1, ErrUnauthenticated},
		{"429 without Retry-After", 1, withStatus(429, ""), 3, 2, nil},
		{"429 with Retry-After above the cap fails at once", 1, withStatus(429, "60"), 3, 1, ErrRateLimited},
		{"connection reset mid-body", 1, resetMidBody, 3, 2, nil},
		{"no retries by default", 1, withStatus(503, ""), 0, 1, ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t)
			u.handle("terminate_reason/", failing(tc.failures, tc.handler))
			c := newClient(t, u, fastRetries(tc.attempts))
			got, err := c.TerminateReasons(context.Background())
			require.Equal(t, tc.wantCalls, u.count("terminate_reason/"))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1, "a retried attempt starts its decoding afresh")
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	u := newUpstream(t)
	u.handle("terminate_reason/", failing(1, withStatus(429, "1")))
	c := newClient(t, u, fastRetries(3))
	start := time.Now()
	_, err := c.TerminateReasons(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, u.count("terminate_reason/"))
	require.GreaterOrEqual(t, time.Since(start), time.Second, "the retry waited for Retry-After")
}

func TestNoRetryOnceContextIsDone(t *testing.T) {
	u := newUpstream(t)
	ctx, cancel := context.WithCancel(context.Background())
	u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newClient(t, u, fastRetries(5))
	_, err := c.TerminateReasons(ctx)
	require.Error(t, err)
	require.Equal(t, 1, u.count("terminate_reason/"))

	// A deadline shorter than the Retry-After ends the retries too.
	u2 := newUpstream(t)
	u2.handle("terminate_reason/", withStatus(503, "2"))
	c2 := newClient(t, u2, fastRetries(5))
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	_, err = c2.TerminateReasons(ctx2)
	require.ErrorIs(t, err, ErrUnavailable)
	require.Equal(t, 1, u2.count("terminate_reason/"))
}

func TestCircuitBreaker(t *testing.T) {
	u := newUpstream(t)
	var healthy atomic.Bool
	u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			serve(http.StatusOK, []byte(`{"terminate_reasons":[]}`))(w, r)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	u.handle("change_reason/", withStatus(404, ""))
	var changes []string
	c := newClient(t, u, func(c *Config) {
		c.BreakerFailures = 3
		c.BreakerCooldown = 50 * time.Millisecond
		c.OnBreakerChange = func(ep, from, to string) { changes = append(changes, ep+":"+from+"->"+to) }
	})
	ctx := context.Background()

	for range 3 {
		_, err := c.TerminateReasons(ctx)
		require.ErrorIs(t, err, ErrUnavailable)
		require.NotErrorIs(t, err, ErrCircuitOpen)
	}
	_, err := c.TerminateReasons(ctx)
	require.ErrorIs(t, err, ErrCircuitOpen)
	require.ErrorIs(t, err, ErrUnavailable, "an open circuit is an outage to callers")
	require.Equal(t, 3, u.count("terminate_reason/"), "an open breaker fails fast")

	// Other endpoints have breakers of their own, and 404s never trip one.
	for range 5 {
		_, err := c.ChangeReasons(ctx)
		require.ErrorIs(t, err, ErrNotFound)
	}
	require.Equal(t, 5, u.count("change_reason/"))

	// After the cooldown one probe goes through; its success closes it.
	healthy.Store(true)
	time.Sleep(60 * time.Millisecond)
	_, err = c.TerminateReasons(ctx)
	require.NoError(t, err)
	_, err = c.TerminateReasons(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, u.count("terminate_reason/"))
	require.Equal(t, []string{
		"terminate_reason:closed->open",
		"terminate_reason:open->half-open",
		"terminate_reason:half-open->closed",
	}, changes)
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	u := newUpstream(t)
	u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	c := newClient(t, u, func(c *Config) { c.BreakerFailures = 1 })
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.TerminateReasons(ctx)
		cancel()
		require.ErrorIs(t, err, ErrTimeout)
		require.NotErrorIs(t, err, ErrCircuitOpen)
	}
	require.Equal(t, 3, u.count("terminate_reason/"))
}

func TestRetryOnConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var attempts atomic.Int32
	c, err := New(Config{BaseURL: "http://" + addr, Logger: quietLogger(), MaxAttempts: 3,
		RetryBaseDelay: time.Millisecond, HTTPClient: &http.Client{Transport: countingTransport{&attempts}}})
	require.NoError(t, err)
	_, err = c.Businesses(context.Background())
	require.ErrorIs(t, err, ErrUnavailable)
	require.EqualValues(t, 3, attempts.Load())
}

type countingTransport struct{ n *atomic.Int32 }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestCredentialID(t *testing.T) {
	u := newUpstream(t)
	const tok = "s3cr3t-token-value"
	static := newClient(t, u, func(c *Config) { c.Auth = StaticToken(tok) })
	static2 := newClient(t, u, func(c *Config) { c.Auth = StaticToken(tok + "x") })
	pw := newClient(t, u, func(c *Config) { c.Auth = PasswordAuth(u.URL+"/token", "api-client", "alice", "pw") })
	pw2 := newClient(t, u, func(c *Config) { c.Auth = PasswordAuth(u.URL+"/token", "api-client", "bob", "pw") })
	none := newClient(t, u)
	ctx := context.Background()

	ids := map[string]string{
		"static":     static.CredentialID(ctx),
		"static2":    static2.CredentialID(ctx),
		"password":   pw.CredentialID(ctx),
		"password2":  pw2.CredentialID(ctx),
		"none":       none.CredentialID(ctx),
		"bearer a":   static.CredentialID(WithBearer(ctx, "a")),
		"bearer b":   static.CredentialID(WithBearer(ctx, "b")),
		"bearer tok": none.CredentialID(WithBearer(ctx, tok)),
	}
	seen := map[string]string{}
	for name, id := range ids {
		require.NotContains(t, id, tok)
		require.NotContains(t, id, "alice")
		other, dup := seen[id]
		require.False(t, dup, "%s and %s share an identity", name, other)
		seen[id] = name
	}
	require.Equal(t, static.CredentialID(ctx), static.CredentialID(ctx), "stable")
	require.True(t, strings.HasPrefix(ids["bearer tok"], "bearer:"))
}

package covage

import (
	"bytes"
	"context"
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
)

// basePath puts the fake upstream behind a path prefix, so a request built
// from an absolute path instead of BaseURL fails the test.
const basePath = "/gw"

// upstream is a fake Covage that counts calls per path and keeps the
// requests it saw.
type upstream struct {
	*httptest.Server
	mux *http.ServeMux

	mu    sync.Mutex
	calls map[string]int
	reqs  []*http.Request
}

func newUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{mux: http.NewServeMux(), calls: map[string]int{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.calls[r.URL.Path]++
		u.reqs = append(u.reqs, r.Clone(context.Background()))
		u.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, basePath+"/") {
			t.Errorf("request outside BaseURL: %s", r.URL.Path)
			http.NotFound(w, r)
			return
		}
		u.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// base is the BaseURL to configure.
func (u *upstream) base() string { return u.URL + basePath }

// handle serves h at an endpoint path such as "project" or "enni/"; a
// trailing slash matches that exact path only.
func (u *upstream) handle(path string, h http.HandlerFunc) {
	pattern := basePath + apiPath + path
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}"
	}
	u.mux.HandleFunc(pattern, h)
}

// count is the number of calls to an endpoint path.
func (u *upstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[basePath+apiPath+path]
}

// total is the number of calls to any path.
func (u *upstream) total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.calls {
		n += c
	}
	return n
}

// last is the last request received.
func (u *upstream) last(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.NotEmpty(t, u.reqs, "no request reached the upstream")
	return u.reqs[len(u.reqs)-1]
}

// golden reads a testdata file, filling {{BASE}} (BaseURL) and {{PATH}}
// (BaseURL's path) for pagination links.
func (u *upstream) golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	b = bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(u.base()))
	return bytes.ReplaceAll(b, []byte("{{PATH}}"), []byte(basePath))
}

// serve answers with a JSON body.
func serve(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newClient builds a client on u with a quiet logger and short timeouts.
func newClient(t *testing.T, u *upstream, opts ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: u.base(), Timeout: 2 * time.Second, Logger: quietLogger()}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

// driftRecorder collects OnDrift calls.
type driftRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (d *driftRecorder) record(kind, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, kind+"="+value)
}

func (d *driftRecorder) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

func ptr[T any](v T) *T { return &v }

package shared

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/redistest"
)

// TestParseValue treats Redis's answers as input from outside: anything
// but a time and a value within the cap is no value.
func TestParseValue(t *testing.T) {
	c := &Cache{maxData: 8}
	after := time.UnixMilli(1700000000000)
	for _, tc := range []struct {
		name    string
		vals    []any
		want    cache.Claim
		wantErr bool
	}{
		{"fresh", []any{"1700000000001", "abc"}, cache.Claim{Data: []byte("abc"), Fetched: time.UnixMilli(1700000000001), Fresh: true}, false},
		{"stale", []any{"1700000000000", "abc"}, cache.Claim{Data: []byte("abc"), Fetched: time.UnixMilli(1700000000000)}, false},
		{"missing", []any{nil, nil}, cache.Claim{}, false},
		{"oversized", []any{"1700000000001", "123456789"}, cache.Claim{}, false},
		{"bad time", []any{"soon", "abc"}, cache.Claim{}, false},
		{"no time", []any{nil, "abc"}, cache.Claim{}, false},
		{"short", []any{"1"}, cache.Claim{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.parseValue(tc.vals, after)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestValidHash(t *testing.T) {
	require.True(t, validHash(strings.Repeat("ab", 32)))
	for _, h := range []string{"", strings.Repeat("AB", 32), strings.Repeat("ab", 33), strings.Repeat("a", 63) + "}", "x"} {
		require.False(t, validHash(h), h)
	}
}

// TestStateChanges: one line per change of state, whatever the number of
// failed operations, and operations skipped while down.
func TestStateChanges(t *testing.T) {
	srv := redistest.Start(t)
	log := &lockedWriter{w: &strings.Builder{}}
	var mu sync.Mutex
	ops := map[string]int{}
	r, err := New(Config{URL: srv.URL(), Timeout: time.Second, ProbeInterval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, nil)), OnOp: func(op, result string) {
			mu.Lock()
			defer mu.Unlock()
			ops[op+" "+result]++
		}})
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Up())
	require.NoError(t, r.Check(context.Background()))

	srv.Kill()
	c := NewCache(r, 0)
	for range 20 {
		_, err := c.Claim(context.Background(), "x", time.Now(), true, "tok", time.Second)
		require.Error(t, err)
	}
	require.False(t, r.Up())
	err = r.Check(context.Background())
	require.ErrorContains(t, err, "redis unreachable (connection failed)")
	require.NotContains(t, err.Error(), "127.0.0.1", "no address in /readyz")
	mu.Lock()
	require.GreaterOrEqual(t, ops["cache_get skipped"], 19)
	mu.Unlock()

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for !r.Up() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.True(t, r.Up())
	require.Equal(t, 1, strings.Count(log.String(), "redis unavailable"))
	require.Equal(t, 1, strings.Count(log.String(), "redis available again"))
}

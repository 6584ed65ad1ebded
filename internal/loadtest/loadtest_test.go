package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	sorted := make([]time.Duration, 100)
	for i := range sorted {
		sorted[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		p    int
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}}
	for _, tc := range tests {
		require.Equal(t, tc.want, percentile(sorted, tc.p), "p%d", tc.p)
	}
	require.Equal(t, time.Second, percentile([]time.Duration{time.Second}, 50))
}

func TestProcFiles(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cpu, err := ProcessCPU(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, cpu, time.Duration(0))
	rss, err := PeakRSS(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, rss, int64(1<<20), "a Go test binary peaks above 1 MB")
	_, err = ProcessCPU(-1)
	require.Error(t, err)
}

func TestRun(t *testing.T) {
	var served, failing atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		if failing.Load() > 0 && n%2 == 0 {
			_, _ = w.Write([]byte(`{"errors":[{"message":"boom"}],"data":null}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"ok":true}}`))
	}))
	t.Cleanup(gw.Close)
	stats := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Three upstream calls per gateway request, and a new connection
		// for each call.
		n := itoa(3 * served.Load())
		_, _ = w.Write([]byte(`{"total":` + n + `,"connections":` + n + `}`))
	}))
	t.Cleanup(stats.Close)

	tests := []struct {
		name       string
		failing    bool
		wantErrors bool
	}{
		{"clean", false, false},
		{"graphql errors counted", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.failing {
				failing.Store(1)
			}
			r, err := Run(context.Background(), Config{URL: gw.URL, Query: "{ ok }", Clients: 2, Duration: 100 * time.Millisecond, StatsURL: stats.URL})
			require.NoError(t, err)
			require.Positive(t, r.Requests)
			require.Equal(t, tc.wantErrors, r.Errors > 0, r.FirstError)
			require.InDelta(t, 3.0, r.UpstreamPerRequest, 0.5)
			// Read from the same two snapshots, a connection per call is
			// exactly the calls per request times the requests per second.
			require.InDelta(t, r.UpstreamPerRequest*r.RPS, r.UpstreamConnsPerSec, 1e-6)
			require.LessOrEqual(t, r.P50, r.P99)
			require.Contains(t, r.String(), "req/s")
		})
	}
	_, err := Run(context.Background(), Config{URL: gw.URL, Clients: 1, Duration: time.Millisecond})
	require.ErrorContains(t, err, "need a URL, a query")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

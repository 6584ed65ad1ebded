// Package loadtest drives a running gateway with concurrent clients and
// measures it from the outside: throughput, latency percentiles, errors,
// the gateway process's own CPU time and peak memory (from /proc), and the
// upstream calls per request (from the demo upstream's counters).
// cmd/loadtest and cmd/benchplot are its front ends.
package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is one load run.
type Config struct {
	// URL is the gateway's GraphQL endpoint, e.g. http://127.0.0.1:8080/query.
	URL string
	// Query and Variables are the GraphQL request every client repeats.
	Query     string
	Variables map[string]any
	// Clients is how many requests are in flight at once.
	Clients int
	// Duration is how long the measured window lasts.
	Duration time.Duration
	// Warmup requests per client are sent, and not measured, first.
	Warmup int
	// PID, when not 0, is the gateway's process, whose CPU time and peak RSS
	// are read from /proc before and after the window.
	PID int
	// StatsURL, when set, is the demo upstream's /_demo/stats, read before
	// and after the window for the upstream calls per request and the
	// connections opened to the upstream per second.
	StatsURL string
	// AcceptEncoding, when set, is sent as Accept-Encoding; the answer is
	// read as sent, never decoded, so RespBytes is the size on the wire.
	// Unset, none is sent and answers come uncompressed.
	AcceptEncoding string
	// Every, when set, paces each client: one request starts every Every
	// (open loop, as a page polling), instead of one right after another.
	Every time.Duration
	// RootCAs, when set, are the CAs trusted for https URLs (the demo
	// upstream's certificate for StatsURL); nil means the system's.
	RootCAs *x509.CertPool
}

// Result is what a run measured.
type Result struct {
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	// RespBytes is the size of the last successful response.
	RespBytes int `json:"resp_bytes"`
	// CPUPerRequest is the gateway's user+system CPU time in the window
	// divided by the requests served; 0 without a PID.
	CPUPerRequest time.Duration `json:"cpu_per_request_ns"`
	// CPU is the gateway's CPU time in the window.
	CPU time.Duration `json:"cpu_ns"`
	// PeakRSS is the gateway's VmHWM in bytes after the run; 0 without a PID.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// UpstreamPerRequest is the demo's data calls in the window divided by
	// the requests; -1 without StatsURL.
	UpstreamPerRequest float64 `json:"upstream_per_request"`
	// UpstreamConnsPerSec is the connections the demo upstream saw opened
	// in the window divided by its length: near 0 when the gateway reuses
	// its connections; -1 without StatsURL.
	UpstreamConnsPerSec float64 `json:"upstream_connections_per_s"`
}

// Run drives the gateway as cfg says.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 || cfg.URL == "" || cfg.Query == "" {
		return Result{}, errors.New("loadtest: need a URL, a query, clients ≥ 1 and a positive duration")
	}
	body, err := json.Marshal(map[string]any{"query": cfg.Query, "variables": cfg.Variables})
	if err != nil {
		return Result{}, fmt.Errorf("loadtest: encode query: %w", err)
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			// No total idle cap: a cap of Clients would evict the stats
			// connection, and count the driver's own reconnections as the
			// gateway's.
			MaxIdleConnsPerHost: cfg.Clients, DisableCompression: true,
			TLSClientConfig: &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		},
	}
	defer client.CloseIdleConnections()

	// Warm-up: connections, the gateway's query cache, a shared cache.
	var wg sync.WaitGroup
	warmErrs := make([]error, cfg.Clients)
	for i := range cfg.Clients {
		wg.Go(func() {
			var buf bytes.Buffer
			for range cfg.Warmup {
				if err := post(ctx, client, cfg, body, &buf); err != nil {
					warmErrs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(warmErrs...); err != nil {
		return Result{}, fmt.Errorf("loadtest: warm-up: %w", err)
	}

	var cpu0 time.Duration
	if cfg.PID != 0 {
		if cpu0, err = ProcessCPU(cfg.PID); err != nil {
			return Result{}, err
		}
	}
	var stats0 upstreamStats
	if cfg.StatsURL != "" {
		if stats0, err = readStats(ctx, client, cfg.StatsURL); err != nil {
			return Result{}, err
		}
	}

	type worker struct {
		lat      []time.Duration
		errs     int
		firstErr error
		size     int
	}
	workers := make([]worker, cfg.Clients)
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for i := range workers {
		wg.Go(func() {
			w := &workers[i]
			var buf bytes.Buffer
			next := time.Now()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if cfg.Every > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(cfg.Every)
					if !time.Now().Before(deadline) {
						break
					}
				}
				t0 := time.Now()
				err := post(ctx, client, cfg, body, &buf)
				w.lat = append(w.lat, time.Since(t0))
				if err != nil {
					w.errs++
					if w.firstErr == nil {
						w.firstErr = err
					}
					continue
				}
				w.size = buf.Len()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var r Result
	r.Elapsed = elapsed
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Errors += w.errs
		if w.firstErr != nil && r.FirstError == "" {
			r.FirstError = w.firstErr.Error()
		}
		r.RespBytes = max(r.RespBytes, w.size)
	}
	r.Requests = len(all)
	if r.Requests == 0 {
		return r, errors.New("loadtest: no request completed")
	}
	slices.Sort(all)
	r.P50, r.P90, r.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	r.RPS = float64(r.Requests) / elapsed.Seconds()
	if cfg.PID != 0 {
		cpu1, err := ProcessCPU(cfg.PID)
		if err != nil {
			return r, err
		}
		r.CPU = cpu1 - cpu0
		r.CPUPerRequest = r.CPU / time.Duration(r.Requests)
		if r.PeakRSS, err = PeakRSS(cfg.PID); err != nil {
			return r, err
		}
	}
	r.UpstreamPerRequest, r.UpstreamConnsPerSec = -1, -1
	if cfg.StatsURL != "" {
		stats1, err := readStats(ctx, client, cfg.StatsURL)
		if err != nil {
			return r, err
		}
		r.UpstreamPerRequest = float64(stats1.Total-stats0.Total) / float64(r.Requests)
		r.UpstreamConnsPerSec = float64(stats1.Connections-stats0.Connections) / elapsed.Seconds()
	}
	return r, nil
}

// percentile returns the p-th percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// post sends one GraphQL request; a non-200 status or a GraphQL error in
// the body is an error. The body is read whole into buf and not decoded.
func post(ctx context.Context, c *http.Client, cfg Config, body []byte, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.AcceptEncoding != "" {
		req.Header.Set("Accept-Encoding", cfg.AcceptEncoding)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, buf.Bytes())
	}
	if resp.Header.Get("Content-Encoding") == "" && bytes.Contains(buf.Bytes(), []byte(`"errors":`)) {
		return fmt.Errorf("graphql errors: %.200s", buf.Bytes())
	}
	return nil
}

// upstreamStats is what the load driver reads of the demo's counters.
type upstreamStats struct {
	// Total is the data calls served.
	Total int64
	// Connections is the connections opened to the demo.
	Connections int64
}

// readStats reads the demo's counters from its stats endpoint.
func readStats(ctx context.Context, c *http.Client, url string) (upstreamStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return upstreamStats{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return upstreamStats{}, fmt.Errorf("loadtest: upstream stats: %w", err)
	}
	defer resp.Body.Close()
	var s struct {
		Total       *int64 `json:"total"`
		Connections int64  `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK || s.Total == nil {
		return upstreamStats{}, fmt.Errorf("loadtest: upstream stats %s: status %d, want {\"total\": n}", url, resp.StatusCode)
	}
	return upstreamStats{Total: *s.Total, Connections: s.Connections}, nil
}

// clockTick is Linux's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: 100 on every architecture Go supports.
const clockTick = 10 * time.Millisecond

// ProcessCPU returns the user plus system CPU time the process has used,
// from /proc/<pid>/stat (10 ms resolution).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: process CPU: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields after its closing parenthesis. utime and stime are
	// fields 14 and 15, so the 12th and 13th after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("loadtest: process CPU: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: process CPU: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("loadtest: peak RSS: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("loadtest: peak RSS: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("loadtest: peak RSS: no VmHWM in /proc/%d/status", pid)
}

// String formats r for a terminal.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests     %d in %.1fs (%d errors)\n", r.Requests, r.Elapsed.Seconds(), r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(&b, "first error  %s\n", r.FirstError)
	}
	fmt.Fprintf(&b, "throughput   %.1f req/s\n", r.RPS)
	fmt.Fprintf(&b, "latency      p50 %s  p90 %s  p99 %s\n", ms(r.P50), ms(r.P90), ms(r.P99))
	fmt.Fprintf(&b, "response     %d bytes\n", r.RespBytes)
	if r.PeakRSS > 0 {
		fmt.Fprintf(&b, "gateway CPU  %s per request (%s in the window)\n", ms(r.CPUPerRequest), ms(r.CPU))
		fmt.Fprintf(&b, "peak RSS     %.1f MB (VmHWM)\n", float64(r.PeakRSS)/(1<<20))
	}
	if r.UpstreamPerRequest >= 0 {
		fmt.Fprintf(&b, "upstream     %.2f calls per request, %.1f new connections/s\n", r.UpstreamPerRequest, r.UpstreamConnsPerSec)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

// Serve serves h on ln until ctx ends: the helper processes of the load
// tools (the demo upstream, the net/http floor) run until interrupted.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Command benchplot produces the figures of BENCHMARKS.md. It builds the
// gateway, and for every scenario starts a demo upstream (in this process)
// and a fresh gateway process against it, drives the gateway with
// internal/loadtest from this process, and reads the gateway's CPU time and
// peak RSS from /proc. It prints Markdown tables and draws the scaling curve
// as a PNG.
//
//	go run ./cmd/benchplot -d 10s -png docs/scaling.png > /tmp/figures.md
//
// Each gateway is a separate process so that its CPU time and peak RSS hold
// the gateway alone: not the demo upstream, not the load driver.
//
// With -cold it prints the cold-path table instead (cold.go): the floor,
// this gateway and the Apollo peer, side by side, over HTTP and HTTPS:
//
//	go run ./cmd/benchplot -cold -apollo ../shared/peers/apollo > /tmp/cold.md
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/loadtest"
)

// Queries of issue 6.
const (
	qProjectsEnnis = `{ projects { code ennis { reference } } }`
	qReasons       = `{ terminateReasons { code label } changeReasons { code label } siteConnectionTypes { code label } }`
	qEnnisBPEA     = `{ ennis(filter: {offer: BPEA, active: true}) { reference label offer } }`
	// qEnniSearch is issue 15's search-as-you-type query: three letters
	// that every generated door matches.
	qEnniSearch = `{ enniConnection(search: "col", first: 20) { totalCount nodes { reference label } } }`
)

// noResponses turns the response cache off.
var noResponses = []string{"RESPONSE_CACHE_MB=0"}

// qBillingSites asks for 50 codes, 40 of them distinct.
var qBillingSites = func() string {
	var b strings.Builder
	b.WriteString(`{ billingSites(codes: [`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"BS%04d"`, i%40+1)
	}
	b.WriteString(`]) { code description } }`)
	return b.String()
}()

// scenario is one gateway process under one load.
type scenario struct {
	name    string
	query   string
	size    [3]int // projects, ennis, clients
	latency time.Duration
	cache   bool
	clients int
	env     []string // extra settings of the gateway
}

type outcome struct {
	scenario
	res loadtest.Result
	// floor is, for the billing-site scenarios, the p50 of the same GETs
	// sent straight to the demo upstream from this process, through a pool
	// of the gateway's size: what the upstream alone costs.
	floor time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var (
		duration = flag.Duration("d", 10*time.Second, "measured duration of each scenario")
		clients  = flag.Int("c", 16, "concurrent clients of the main scenarios")
		pngPath  = flag.String("png", "docs/scaling.png", "where to write the scaling plot")
		jsonPath = flag.String("json", "", "also write every result as JSON here")
		only     = flag.String("only", "", "run only the scenarios whose name contains this")
		gwEnv    = flag.String("gateway-env", "", "extra KEY=VALUE settings for the gateway, comma-separated (e.g. GOMEMLIMIT=40MiB); with -cold, for the gateway only, not the floor")
		scaling  = flag.Bool("scaling", true, "run the scaling scenarios and draw the plot")
		floor    = flag.String("serve-floor", "", "internal: serve the net/http floor on this address (benchplot runs itself with it)")
		https    = flag.Bool("https", false, "serve the demo upstream over HTTPS and HTTP/2, with a certificate made per scenario that the gateway trusts through COVAGE_CA_FILE")
		cold     = flag.Bool("cold", false, "measure the cold path instead (issue 16): for each query, over HTTP and HTTPS, the floor, this gateway and (with -apollo) the Apollo peer against the same upstream, and print the cold table")
		apollo   = flag.String("apollo", "", "with -cold: the Apollo Server peer's directory (e.g. ../shared/peers/apollo), copied and installed with npm ci")
		gateway  = flag.String("gateway", "", "with -cold: measure this prebuilt gateway binary instead of building this tree")
		warmup   = flag.Int("warmup", 5, "with -cold: unmeasured requests per client before each measurement")
		rounds   = flag.Int("rounds", 1, "with -cold: measure each server this many times per query, the servers taking turns, and keep each one's median round")
		protos   = flag.String("protocols", "http,https", "with -cold: the upstream's protocols, comma-separated")
		baseline = flag.String("baseline", "", "a gateway binary built from an earlier commit: each main scenario also runs against it, right after the current build, and a before/after table is printed")
	)
	flag.Parse()
	if *floor != "" {
		return serveFloor(ctx, *floor)
	}
	if *cold {
		d := *duration
		if !flagSet("d") {
			d = 6 * time.Second // the whole cold table in about 5 minutes
		}
		return runCold(ctx, coldOptions{
			gateway: *gateway, apollo: *apollo, d: d, clients: *clients, warmup: *warmup,
			only: *only, jsonPath: *jsonPath, protos: strings.Split(*protos, ","),
			gatewayEnv: splitEnv(*gwEnv), rounds: *rounds,
		})
	}

	dir, err := os.MkdirTemp("", "benchplot")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gateway")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the gateway: %w", err)
	}

	shape := [3]int{500, 2000, 50}
	scenarios := []scenario{
		{"projects_ennis cache=off", qProjectsEnnis, shape, 0, false, *clients, nil},
		{"reasons cache=off", qReasons, shape, 0, false, *clients, nil},
		{"ennis_bpea_active cache=off", qEnnisBPEA, shape, 0, false, *clients, nil},
		{"projects_ennis cache=warm", qProjectsEnnis, shape, 0, true, *clients, nil},
		{"reasons cache=warm", qReasons, shape, 0, true, *clients, nil},
		{"ennis_bpea_active cache=warm", qEnnisBPEA, shape, 0, true, *clients, nil},
		// The shared cache warm, the response cache off: every request is
		// executed.
		{"projects_ennis cache=warm responses=off", qProjectsEnnis, shape, 0, true, *clients, noResponses},
		{"reasons cache=warm responses=off", qReasons, shape, 0, true, *clients, noResponses},
		{"ennis_bpea_active cache=warm responses=off", qEnnisBPEA, shape, 0, true, *clients, noResponses},
		{"enni_search cache=warm responses=off", qEnniSearch, shape, 0, true, *clients, noResponses},
		{"enni_search ennis=50000 cache=warm responses=off", qEnniSearch, [3]int{500, 50000, 50}, 0, true, *clients, noResponses},
		{"projects_ennis latency=20ms cache=off", qProjectsEnnis, shape, 20 * time.Millisecond, false, *clients, nil},
		{"billing_sites latency=20ms cache=off", qBillingSites, shape, 20 * time.Millisecond, false, *clients, nil},
		// One client: the round trips alone, without queueing for the CPU.
		{"projects_ennis latency=20ms cache=off c=1", qProjectsEnnis, shape, 20 * time.Millisecond, false, 1, nil},
		{"billing_sites latency=20ms cache=off c=1", qBillingSites, shape, 20 * time.Millisecond, false, 1, nil},
	}
	var scale []scenario
	if *scaling {
		// 40 doors per client and 4 doors per project, as in the base
		// shape, so the response grows in proportion to the door count.
		for _, n := range []int{1000, 10000, 50000} {
			scale = append(scale, scenario{fmt.Sprintf("scaling ennis=%d", n), qProjectsEnnis, [3]int{n / 4, n, n / 40}, 0, false, 4, nil})
		}
	}
	extra := splitEnv(*gwEnv)

	var results, scaled, base []outcome
	for _, list := range []struct {
		in  []scenario
		out *[]outcome
	}{{scenarios, &results}, {scale, &scaled}} {
		for _, s := range list.in {
			if *only != "" && !strings.Contains(s.name, *only) {
				continue
			}
			fmt.Fprintf(os.Stderr, "running %s …\n", s.name)
			res, floor, err := runScenario(ctx, bin, s, *duration, extra, *https)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			*list.out = append(*list.out, outcome{s, res, floor})
			if *baseline != "" && list.out == &results {
				fmt.Fprintf(os.Stderr, "running %s against the baseline …\n", s.name)
				res, floor, err := runScenario(ctx, *baseline, s, *duration, extra, *https)
				if err != nil {
					return fmt.Errorf("%s (baseline): %w", s.name, err)
				}
				base = append(base, outcome{s, res, floor})
			}
		}
	}

	printMachine()
	const floorName = "reasons net/http floor (constant 1,437-byte answer)"
	if *only == "" || strings.Contains(floorName, *only) {
		fmt.Fprintln(os.Stderr, "running the net/http floor …")
		res, err := runFloor(ctx, *clients, *duration)
		if err != nil {
			return fmt.Errorf("net/http floor: %w", err)
		}
		results = append(results, outcome{scenario: scenario{name: floorName, query: qReasons, clients: *clients}, res: res})
	}
	printMain(results)
	printFloor(results)
	printBaseline(results, base)
	if len(scaled) > 0 {
		printScaling(scaled)
		if err := plotScaling(scaled, *pngPath); err != nil {
			return err
		}
		fmt.Printf("\nPlot: `%s`\n", *pngPath)
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(append(results, scaled...), "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*jsonPath, b, 0o644)
	}
	return nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func splitEnv(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// runScenario starts the demo upstream and a gateway process, drives the
// gateway, and stops both. For the billing-site query it then measures the
// upstream floor.
func runScenario(ctx context.Context, bin string, s scenario, d time.Duration, extra []string, tlsOn bool) (loadtest.Result, time.Duration, error) {
	res, upURL, roots, stop, err := startAndDrive(ctx, bin, s, d, extra, tlsOn)
	defer stop()
	if err != nil || s.query != qBillingSites {
		return res, 0, err
	}
	floor, err := upstreamFloor(ctx, upURL, roots, poolSize(extra), 20)
	return res, floor, err
}

// poolSize is the gateway's billing-site pool: BILLING_SITE_CONCURRENCY
// when extra sets it, else the default of 8.
func poolSize(extra []string) int {
	for _, kv := range extra {
		if v, ok := strings.CutPrefix(kv, "BILLING_SITE_CONCURRENCY="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	return 8
}

// upstreamFloor sends the 40 distinct GETs of qBillingSites straight to the
// demo upstream, at most pool at a time, n times, and returns the p50: the
// latency a gateway with no overhead at all would have.
func upstreamFloor(ctx context.Context, upURL string, roots *x509.CertPool, pool, n int) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: pool, ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ClientSessionCache: tls.NewLRUClientSessionCache(0)},
	}}
	defer client.CloseIdleConnections()
	get := func(code string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, upURL+"/api/v1/referential/billing_site/"+code+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET billing_site/%s: %s", code, resp.Status)
		}
		return err
	}
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		slots := make(chan struct{}, pool)
		errs := make(chan error, 40)
		for i := range 40 {
			go func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				errs <- get(fmt.Sprintf("BS%04d", i+1))
			}()
		}
		for range 40 {
			if err := <-errs; err != nil {
				return 0, err
			}
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// startAndDrive starts the demo upstream and a gateway process and drives
// the gateway; stop stops both. With tlsOn (-https) the upstream serves
// HTTPS and HTTP/2, and roots trust it.
func startAndDrive(ctx context.Context, bin string, s scenario, d time.Duration, extra []string, tlsOn bool) (res loadtest.Result, upURL string, roots *x509.CertPool, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	up := demo.New(demo.Generate(s.size[0], s.size[1], s.size[2]), demo.WithLatency(s.latency))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadtest.Result{}, "", nil, stop, err
	}
	var cert *demo.Certificate
	var caEnv []string
	if tlsOn {
		c, err := demo.SelfSigned()
		if err != nil {
			return loadtest.Result{}, "", nil, stop, err
		}
		caFile := filepath.Join(filepath.Dir(bin), "demo-ca.pem")
		if err := os.WriteFile(caFile, c.PEM, 0o600); err != nil {
			return loadtest.Result{}, "", nil, stop, err
		}
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM(c.PEM)
		cert, caEnv = &c, []string{"COVAGE_CA_FILE=" + caFile}
	}
	upURL, stopDemo := demo.Start(up, ln, cert)
	stops = append(stops, func() { _ = stopDemo() })

	port, err := freePort()
	if err != nil {
		return loadtest.Result{}, "", nil, stop, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"COVAGE_API_URL="+upURL,
		fmt.Sprintf("PORT=%d", port),
		"LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, caEnv...)
	if !s.cache {
		cmd.Env = append(cmd.Env, "COVAGE_CACHE_TTL=0")
	}
	cmd.Env = append(cmd.Env, s.env...)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return loadtest.Result{}, "", nil, stop, err
	}
	stops = append(stops, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	gw := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(ctx, gw+"/healthz"); err != nil {
		return loadtest.Result{}, "", nil, stop, err
	}
	warmup := 2
	if s.size[1] >= 50000 {
		warmup = 1
	}
	res, err = loadtest.Run(ctx, loadtest.Config{
		URL:      gw + "/query",
		Query:    s.query,
		Clients:  s.clients,
		Duration: d,
		Warmup:   warmup,
		PID:      cmd.Process.Pid,
		StatsURL: upURL + demo.StatsPath,
		RootCAs:  roots,
	})
	return res, upURL, roots, stop, err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// floorBody is a constant answer the size of the reason lists' answer.
var floorBody = func() []byte {
	const size = 1437
	head, tail := `{"data":{"x":"`, `"}}`
	return []byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail)
}()

// serveFloor serves floorBody to every POST after reading its body, as a
// Go server that does nothing else would: the per-request cost of net/http
// and the kernel on this machine, which no Go gateway can go below.
func serveFloor(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(floorBody)
	})
	return loadtest.Serve(ctx, ln, mux)
}

// runFloor runs serveFloor in a child process (this program, re-run) and
// drives it like a gateway.
func runFloor(ctx context.Context, clients int, d time.Duration) (loadtest.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return loadtest.Result{}, err
	}
	port, err := freePort()
	if err != nil {
		return loadtest.Result{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.CommandContext(ctx, self, "-serve-floor", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return loadtest.Result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitHealthy(ctx, "http://"+addr+"/healthz"); err != nil {
		return loadtest.Result{}, err
	}
	return loadtest.Run(ctx, loadtest.Config{
		URL:      "http://" + addr + "/query",
		Query:    qReasons,
		Clients:  clients,
		Duration: d,
		Warmup:   2,
		PID:      cmd.Process.Pid,
	})
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("the gateway did not become healthy within 20s")
}

func printMachine() {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Printf("Machine: %d CPUs (%s), %s, load average after the run: %s, %s\n\n",
		runtime.NumCPU(), model, runtime.Version(), load, time.Now().UTC().Format(time.RFC3339))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

func printMain(rs []outcome) {
	if len(rs) == 0 {
		return
	}
	fmt.Println("| scenario | clients | req/s | p50 ms | p90 ms | p99 ms | errors | gateway CPU/request ms | peak RSS MB | upstream calls/request | new upstream connections/s | response bytes |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range rs {
		r := o.res
		fmt.Printf("| %s | %d | %.1f | %s | %s | %s | %d | %.3f | %.1f | %.2f | %.1f | %d |\n",
			o.name, o.clients, r.RPS, ms(r.P50), ms(r.P90), ms(r.P99), r.Errors,
			float64(r.CPUPerRequest)/1e6, float64(r.PeakRSS)/(1<<20), r.UpstreamPerRequest, r.UpstreamConnsPerSec, r.RespBytes)
	}
}

// printBaseline compares each scenario with the same scenario run against
// the baseline binary right after it, as ratios baseline / current.
func printBaseline(rs, base []outcome) {
	if len(base) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("| scenario | CPU/request ms now | baseline | baseline/now | peak RSS MB now | baseline | req/s now | baseline | p50 ms now | baseline |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for i, b := range base { // rs has the floor too, which has no baseline
		o := rs[i]
		r, b := o.res, b.res
		fmt.Printf("| %s | %.3f | %.3f | %.2f× | %.1f | %.1f | %.1f | %.1f | %s | %s |\n",
			o.name, float64(r.CPUPerRequest)/1e6, float64(b.CPUPerRequest)/1e6, float64(b.CPUPerRequest)/float64(max(r.CPUPerRequest, 1)),
			float64(r.PeakRSS)/(1<<20), float64(b.PeakRSS)/(1<<20), r.RPS, b.RPS, ms(r.P50), ms(b.P50))
	}
}

// printFloor sets each billing-site p50 beside the upstream floor.
func printFloor(rs []outcome) {
	first := true
	for _, o := range rs {
		if o.floor == 0 {
			continue
		}
		if first {
			fmt.Println()
			fmt.Println("| scenario | gateway p50 ms | upstream floor p50 ms (same GETs, same pool, straight to the demo) | gateway adds ms |")
			fmt.Println("|---|---|---|---|")
			first = false
		}
		fmt.Printf("| %s | %s | %s | %s |\n", o.name, ms(o.res.P50), ms(o.floor), ms(o.res.P50-o.floor))
	}
}

func printScaling(rs []outcome) {
	fmt.Println()
	fmt.Println("| ennis | projects | clients (data) | objects in the response | response bytes | req/s | p50 ms | gateway CPU/request ms | CPU per 1,000 objects ms | peak RSS MB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range rs {
		r := o.res
		objects := objectsOf(o.size)
		fmt.Printf("| %d | %d | %d | %d | %d | %.1f | %s | %.2f | %.3f | %.1f |\n",
			o.size[1], o.size[0], o.size[2], objects, r.RespBytes, r.RPS, ms(r.P50),
			float64(r.CPUPerRequest)/1e6, float64(r.CPUPerRequest)/1e6/float64(objects)*1000, float64(r.PeakRSS)/(1<<20))
	}
}

// objectsOf counts the objects of { projects { code ennis { reference } } }:
// every project plus its client's doors.
func objectsOf(size [3]int) int {
	perClient := size[1] / size[2]
	return size[0] + size[0]*perClient
}

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
package main

import (
	"context"
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
)

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
}

type outcome struct {
	scenario
	res loadtest.Result
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
		gwEnv    = flag.String("gateway-env", "", "extra KEY=VALUE settings for the gateway, comma-separated (e.g. GOMEMLIMIT=40MiB)")
		scaling  = flag.Bool("scaling", true, "run the scaling scenarios and draw the plot")
	)
	flag.Parse()

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

	base := [3]int{500, 2000, 50}
	scenarios := []scenario{
		{"projects_ennis cache=off", qProjectsEnnis, base, 0, false, *clients},
		{"reasons cache=off", qReasons, base, 0, false, *clients},
		{"ennis_bpea_active cache=off", qEnnisBPEA, base, 0, false, *clients},
		{"projects_ennis cache=warm", qProjectsEnnis, base, 0, true, *clients},
		{"reasons cache=warm", qReasons, base, 0, true, *clients},
		{"ennis_bpea_active cache=warm", qEnnisBPEA, base, 0, true, *clients},
		{"projects_ennis latency=20ms cache=off", qProjectsEnnis, base, 20 * time.Millisecond, false, *clients},
		{"billing_sites latency=20ms cache=off", qBillingSites, base, 20 * time.Millisecond, false, *clients},
		// One client: the round trips alone, without queueing for the CPU.
		{"projects_ennis latency=20ms cache=off c=1", qProjectsEnnis, base, 20 * time.Millisecond, false, 1},
		{"billing_sites latency=20ms cache=off c=1", qBillingSites, base, 20 * time.Millisecond, false, 1},
	}
	var scale []scenario
	if *scaling {
		// 40 doors per client and 4 doors per project, as in the base
		// shape, so the response grows in proportion to the door count.
		for _, n := range []int{1000, 10000, 50000} {
			scale = append(scale, scenario{fmt.Sprintf("scaling ennis=%d", n), qProjectsEnnis, [3]int{n / 4, n, n / 40}, 0, false, 4})
		}
	}
	extra := splitEnv(*gwEnv)

	var results, scaled []outcome
	for _, list := range []struct {
		in  []scenario
		out *[]outcome
	}{{scenarios, &results}, {scale, &scaled}} {
		for _, s := range list.in {
			if *only != "" && !strings.Contains(s.name, *only) {
				continue
			}
			fmt.Fprintf(os.Stderr, "running %s …\n", s.name)
			res, err := runScenario(ctx, bin, s, *duration, extra)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			*list.out = append(*list.out, outcome{s, res})
		}
	}

	printMachine()
	printMain(results)
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

func splitEnv(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// runScenario starts the demo upstream and a gateway process, drives the
// gateway, and stops both.
func runScenario(ctx context.Context, bin string, s scenario, d time.Duration, extra []string) (loadtest.Result, error) {
	up := demo.New(demo.Generate(s.size[0], s.size[1], s.size[2]), demo.WithLatency(s.latency))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loadtest.Result{}, err
	}
	upSrv := &http.Server{Handler: demo.Mux(up), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = upSrv.Serve(ln) }()
	defer upSrv.Close()
	upURL := "http://" + ln.Addr().String()

	port, err := freePort()
	if err != nil {
		return loadtest.Result{}, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"COVAGE_API_URL="+upURL,
		fmt.Sprintf("PORT=%d", port),
		"LOG_LEVEL=warn",
	)
	if !s.cache {
		cmd.Env = append(cmd.Env, "COVAGE_CACHE_TTL=0")
	}
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return loadtest.Result{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	gw := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(ctx, gw+"/healthz"); err != nil {
		return loadtest.Result{}, err
	}
	warmup := 2
	if s.size[1] >= 50000 {
		warmup = 1
	}
	return loadtest.Run(ctx, loadtest.Config{
		URL:      gw + "/query",
		Query:    s.query,
		Clients:  s.clients,
		Duration: d,
		Warmup:   warmup,
		PID:      cmd.Process.Pid,
		StatsURL: upURL + demo.StatsPath,
	})
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
	fmt.Println("| scenario | clients | req/s | p50 ms | p90 ms | p99 ms | errors | gateway CPU/request ms | peak RSS MB | upstream calls/request | response bytes |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range rs {
		r := o.res
		fmt.Printf("| %s | %d | %.1f | %s | %s | %s | %d | %.3f | %.1f | %.2f | %d |\n",
			o.name, o.clients, r.RPS, ms(r.P50), ms(r.P90), ms(r.P99), r.Errors,
			float64(r.CPUPerRequest)/1e6, float64(r.PeakRSS)/(1<<20), r.UpstreamPerRequest, r.RespBytes)
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

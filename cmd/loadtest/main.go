// Command loadtest drives a running gateway with concurrent clients for a
// duration and prints req/s, p50/p90/p99 latency and the error count; with
// -pid, the gateway's CPU time per request and peak RSS (from /proc); with
// -upstream-stats, the upstream calls per request.
//
//	go run ./cmd/loadtest -url http://127.0.0.1:8080/query -c 16 -d 10s \
//	    -query '{ projects { code ennis { reference } } }' \
//	    -pid $(pgrep -n gateway) -upstream-stats http://127.0.0.1:9090/_demo/stats
//
// With -serve-demo it instead serves the demo upstream (generated data,
// optional latency, and /_demo/stats) until interrupted, so the gateway's
// process holds only the gateway when its CPU is measured:
//
//	go run ./cmd/loadtest -serve-demo 127.0.0.1:9090 -demo-size 500,2000,50 -demo-latency 20ms
//
// With -serve-floor it serves the floor of the cold path instead
// (loadtest.Floor): per GraphQL request, the upstream GETs of a plan (JSON,
// -floor-plan) over the gateway's own connection pool, built from the
// gateway's settings in the environment, then the answer in -floor-answer.
// cmd/benchplot -cold records the plan and the answer from the gateway:
//
//	COVAGE_API_URL=http://127.0.0.1:9090 COVAGE_API_TOKEN=t go run ./cmd/loadtest \
//	    -serve-floor 127.0.0.1:8090 -floor-plan plan.json -floor-answer answer.json
//
// With -serve-gqlgen it serves the gateway's executor with nothing around
// it (gqlgen, the resolvers, the loaders, the fast list writer and the
// Covage client; none of the guards, telemetry, caches or compression),
// from the same environment, for the cold table's "gqlgen core" column:
//
//	COVAGE_API_URL=http://127.0.0.1:9090 COVAGE_API_TOKEN=t go run ./cmd/loadtest -serve-gqlgen 127.0.0.1:8091
//
// With -demo-tls the demo serves HTTPS and HTTP/2 with a certificate made
// at start and written to -demo-cert, which the gateway then trusts through
// COVAGE_CA_FILE and the load driver through its own -demo-cert:
//
//	go run ./cmd/loadtest -serve-demo 127.0.0.1:9443 -demo-tls -demo-cert /tmp/demo-ca.pem &
//	COVAGE_API_URL=https://127.0.0.1:9443 COVAGE_CA_FILE=/tmp/demo-ca.pem ./gateway &
//	go run ./cmd/loadtest -demo-cert /tmp/demo-ca.pem -upstream-stats https://127.0.0.1:9443/_demo/stats …
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var (
		cfg      loadtest.Config
		vars     = fs.String("vars", "", "GraphQL variables as a JSON object")
		asJSON   = fs.Bool("json", false, "print the result as JSON")
		serve    = fs.String("serve-demo", "", "serve the demo upstream on this address instead of driving load")
		size     = fs.String("demo-size", "500,2000,50", "with -serve-demo: projects,ennis,clients to generate")
		latency  = fs.Duration("demo-latency", 0, "with -serve-demo: latency of every upstream answer")
		upstream = fs.String("upstream-stats", "", "the demo upstream's stats URL, e.g. http://127.0.0.1:9090/_demo/stats")
		demoTLS  = fs.Bool("demo-tls", false, "with -serve-demo: serve HTTPS and HTTP/2 with a certificate made at start (needs -demo-cert)")
		floor    = fs.String("serve-floor", "", "serve the cold path's floor on this address instead of driving load (upstream settings from the gateway's environment variables)")
		plan     = fs.String("floor-plan", "", "with -serve-floor: the upstream GETs of one request, as JSON {\"stages\":[{\"paths\":[…],\"concurrency\":n}]}")
		answer   = fs.String("floor-answer", "", "with -serve-floor: the answer to write, the gateway's recorded one")
		ctype    = fs.String("floor-content-type", "application/json", "with -serve-floor: the answer's Content-Type")
		core     = fs.String("serve-gqlgen", "", "serve the gateway's executor alone (gqlgen, resolvers, loaders, Covage client) on this address instead of driving load (upstream settings from the gateway's environment variables)")
		demoCert = fs.String("demo-cert", "", "the demo's certificate (PEM): with -serve-demo -demo-tls, written there; otherwise trusted for -url and -upstream-stats")
	)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/query", "the gateway's GraphQL endpoint")
	fs.StringVar(&cfg.Query, "query", "", "the GraphQL query every client sends")
	fs.IntVar(&cfg.Clients, "c", 16, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured duration")
	fs.IntVar(&cfg.Warmup, "warmup", 2, "unmeasured requests per client first")
	fs.IntVar(&cfg.PID, "pid", 0, "the gateway's process ID, for its CPU time and peak RSS")
	fs.StringVar(&cfg.AcceptEncoding, "accept-encoding", "", "send this Accept-Encoding (e.g. gzip, zstd); answers are measured as sent, not decoded")
	fs.DurationVar(&cfg.Every, "every", 0, "pace each client: one request every this long (e.g. 100ms), instead of back to back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *floor != "" {
		return serveFloor(ctx, *floor, *plan, *answer, *ctype)
	}
	if *core != "" {
		return serveGQLGen(ctx, *core)
	}
	if *serve != "" {
		return serveDemo(ctx, *serve, *size, *latency, *demoTLS, *demoCert)
	}
	cfg.StatsURL = *upstream
	if *demoCert != "" {
		pem, err := os.ReadFile(*demoCert)
		if err != nil {
			return fmt.Errorf("-demo-cert: %w", err)
		}
		if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
			return fmt.Errorf("-demo-cert: %w", err)
		}
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-demo-cert %s: no PEM certificate in it", *demoCert)
		}
	}
	if *vars != "" {
		if err := json.Unmarshal([]byte(*vars), &cfg.Variables); err != nil {
			return fmt.Errorf("-vars: %w", err)
		}
	}
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("clients      %d\n%s", cfg.Clients, res)
	return nil
}

// serveDemo serves the demo upstream with generated data until ctx ends,
// over HTTPS and HTTP/2 with tlsOn, its certificate written to certPath.
func serveDemo(ctx context.Context, addr, size string, latency time.Duration, tlsOn bool, certPath string) error {
	var n [3]int
	parts := strings.Split(size, ",")
	if len(parts) != 3 {
		return fmt.Errorf("-demo-size %q: want projects,ennis,clients", size)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 {
			return fmt.Errorf("-demo-size %q: want three whole numbers", size)
		}
		n[i] = v
	}
	var cert *demo.Certificate
	if tlsOn {
		if certPath == "" {
			return errors.New("-demo-tls needs -demo-cert, the file the gateway's COVAGE_CA_FILE will name")
		}
		c, err := demo.SelfSigned()
		if err != nil {
			return err
		}
		if err := os.WriteFile(certPath, c.PEM, 0o644); err != nil {
			return fmt.Errorf("-demo-cert: %w", err)
		}
		cert = &c
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base, stopDemo := demo.Start(demo.New(demo.Generate(n[0], n[1], n[2]), demo.WithLatency(latency)), ln, cert)
	fmt.Fprintf(os.Stderr, "demo upstream on %s (data %s, latency %s); stats at %s\n", base, size, latency, demo.StatsPath)
	<-ctx.Done()
	return stopDemo()
}

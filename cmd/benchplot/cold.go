package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/loadtest"
)

// The cold path of issue 16: every request executed (no shared cache, no
// response cache), against a demo upstream that answers in 20 ms, measured
// three ways against the same upstream process in the same run: the floor
// (cmd/loadtest -serve-floor: the gateway's upstream GETs over the
// gateway's pool, plus its answer), this gateway, and the Apollo Server
// peer. A fourth server, the gqlgen core (cmd/loadtest -serve-gqlgen: the
// gateway's executor and resolvers with none of its middleware), shows how
// much of the gap between the floor and the gateway is gqlgen's.

// coldQueries are the queries of the cold table, in its order.
var coldQueries = []struct{ name, query string }{
	{"reasons", qReasons},
	{"billingSites (50 codes, 40 distinct)", qBillingSites},
	{"filtered ennis", qEnnisBPEA},
	{"projects{ennis}", qProjectsEnnis},
	{"ennis{projects}", `{ ennis { reference projects { code } } }`},
}

// coldToken is the static upstream credential all three send, so each
// upstream GET carries an Authorization header as in production.
const coldToken = "bench-token"

// coldSize and coldLatency are the upstream of the cold table.
var coldSize = [3]int{500, 2000, 50}

const coldLatency = 20 * time.Millisecond

// coldOptions are benchplot's flags for -cold.
type coldOptions struct {
	gateway  string // a prebuilt gateway binary; empty builds this tree
	apollo   string // the Apollo peer's directory; empty leaves Apollo out
	d        time.Duration
	clients  int
	warmup   int
	only     string
	rounds   int // each server's measurements per query, taken in turns
	jsonPath string
	protos   []string
	// gatewayEnv is added to the gateway's environment only (-gateway-env),
	// e.g. GOGC=400: a setting of ours, not of the floor's program.
	gatewayEnv []string
}

// coldRow is one query over one protocol, measured three ways.
type coldRow struct {
	Query    string           `json:"query"`
	Protocol string           `json:"protocol"`
	Plan     loadtest.Plan    `json:"plan"`
	Floor    loadtest.Result  `json:"floor"`
	Core     loadtest.Result  `json:"gqlgen_core"`
	Ours     loadtest.Result  `json:"ours"`
	Apollo   *loadtest.Result `json:"apollo,omitempty"`
	// ApolloDiffers is set when Apollo's answer, decoded, is not the
	// gateway's: then the two did not do the same work.
	ApolloDiffers bool `json:"apollo_differs,omitempty"`
	// CoreDiffers is the same for the gqlgen core's answer.
	CoreDiffers bool `json:"gqlgen_core_differs,omitempty"`
	// RoundsCPU is each server's CPU per request in ms, round by round,
	// when it was measured more than once (-rounds).
	RoundsCPU map[string][]float64 `json:"rounds_cpu_ms,omitempty"`
}

// medianRound is the round of median CPU per request (the lower of the two
// middle ones for an even count), with the errors of every round, so that
// a failure in any round still fails the run.
func medianRound(rounds []loadtest.Result) loadtest.Result {
	sorted := slices.Clone(rounds)
	slices.SortStableFunc(sorted, func(a, b loadtest.Result) int { return cmp.Compare(a.CPUPerRequest, b.CPUPerRequest) })
	m := sorted[(len(sorted)-1)/2]
	m.Errors = 0
	for _, r := range rounds {
		m.Errors += r.Errors
	}
	return m
}

func runCold(ctx context.Context, o coldOptions) error {
	dir, err := os.MkdirTemp("", "benchplot-cold")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gw := o.gateway
	if gw == "" {
		gw = filepath.Join(dir, "gateway")
		if err := goBuild(ctx, gw, "."); err != nil {
			return err
		}
	}
	lt := filepath.Join(dir, "loadtest")
	if err := goBuild(ctx, lt, "./cmd/loadtest"); err != nil {
		return err
	}
	var apollo string
	if o.apollo != "" {
		if apollo, err = installApollo(ctx, o.apollo, filepath.Join(dir, "apollo")); err != nil {
			return err
		}
	}
	var rows []coldRow
	for _, proto := range o.protos {
		rs, err := coldProtocol(ctx, o, proto, dir, gw, lt, apollo)
		if err != nil {
			return fmt.Errorf("%s: %w", proto, err)
		}
		rows = append(rows, rs...)
	}
	printMachine()
	printCold(rows, o)
	printColdDetail(rows)
	if o.jsonPath != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if r.Floor.Errors+r.Core.Errors+r.Ours.Errors > 0 || (r.Apollo != nil && r.Apollo.Errors > 0) {
			return fmt.Errorf("%s over %s had errors: the figures above do not hold", r.Query, r.Protocol)
		}
	}
	return nil
}

func goBuild(ctx context.Context, out, pkg string) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// installApollo copies the peer (its directory may be read-only) and
// installs its locked dependencies; it returns the copy.
func installApollo(ctx context.Context, src, dst string) (string, error) {
	cp := exec.CommandContext(ctx, "cp", "-r", src, dst)
	cp.Stderr = os.Stderr
	if err := cp.Run(); err != nil {
		return "", fmt.Errorf("copy the Apollo peer: %w", err)
	}
	if err := exec.CommandContext(ctx, "chmod", "-R", "u+w", dst).Run(); err != nil {
		return "", err
	}
	_ = os.RemoveAll(filepath.Join(dst, "node_modules"))
	fmt.Fprintln(os.Stderr, "npm ci for the Apollo peer …")
	npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	npm.Dir, npm.Stdout, npm.Stderr = dst, io.Discard, os.Stderr
	if err := npm.Run(); err != nil {
		return "", fmt.Errorf("npm ci in the Apollo peer: %w", err)
	}
	return dst, nil
}

// process is a child process of the cold run: a gateway, the floor or Apollo.
type process struct {
	cmd *exec.Cmd
	url string // its GraphQL endpoint
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}

// start starts name with env added to this process's environment, on a
// free port it is told through PORT (the floor gets it as -serve-floor's
// address), and waits until a query answers.
func start(ctx context.Context, dir string, env []string, path string, args ...string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{addr}", addr)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("PORT=%d", port), "HOST=127.0.0.1", "LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, url: "http://" + addr + "/query"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := postQuery(ctx, p.url, `{ __typename }`); err == nil {
			return p, nil
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("%s did not answer within 30s: %w", filepath.Base(path), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postQuery sends one GraphQL request as the load driver does and returns
// the answer and its Content-Type; a non-200 status or a GraphQL error is
// an error.
func postQuery(ctx context.Context, url, query string) ([]byte, string, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": nil})
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors":`)) {
		return nil, "", fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// coldProtocol measures every query over one protocol: one demo upstream,
// one gateway and one Apollo for all of them, and a floor per query.
func coldProtocol(ctx context.Context, o coldOptions, proto, dir, gw, lt, apollo string) ([]coldRow, error) {
	rec := &recorder{}
	up := demo.New(demo.Generate(coldSize[0], coldSize[1], coldSize[2]), demo.WithLatency(coldLatency))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rec.wrap(demo.Mux(up)), ReadHeaderTimeout: 5 * time.Second, ConnState: up.ConnState}
	var roots *x509.CertPool
	env := []string{"COVAGE_API_TOKEN=" + coldToken, "COVAGE_CACHE_TTL=0", "RESPONSE_CACHE_MB=0"}
	var nodeEnv []string
	serve := func() error { return srv.Serve(ln) }
	scheme := "http"
	if proto == "https" {
		cert, err := demo.SelfSigned()
		if err != nil {
			return nil, err
		}
		caFile := filepath.Join(dir, "demo-ca-"+proto+".pem")
		if err := os.WriteFile(caFile, cert.PEM, 0o600); err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM(cert.PEM)
		srv.TLSConfig = cert.ServerTLS()
		serve = func() error { return srv.ServeTLS(ln, "", "") }
		scheme = "https"
		env = append(env, "COVAGE_CA_FILE="+caFile)
		nodeEnv = append(nodeEnv, "NODE_EXTRA_CA_CERTS="+caFile)
	}
	served := make(chan error, 1)
	go func() { served <- serve() }()
	defer func() {
		_ = srv.Close()
		<-served
	}()
	upURL := scheme + "://" + ln.Addr().String()
	env = append(env, "COVAGE_API_URL="+upURL)

	ours, err := start(ctx, "", append(slices.Clone(env), o.gatewayEnv...), gw)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	defer ours.stop()
	core, err := start(ctx, "", append(slices.Clone(env), o.gatewayEnv...), lt, "-serve-gqlgen", "{addr}")
	if err != nil {
		return nil, fmt.Errorf("gqlgen core: %w", err)
	}
	defer core.stop()
	var peer *process
	if apollo != "" {
		if peer, err = start(ctx, apollo, append(slices.Clone(env), nodeEnv...), "node", "src/index.js"); err != nil {
			return nil, fmt.Errorf("apollo: %w", err)
		}
		defer peer.stop()
	}

	var rows []coldRow
	for i, q := range coldQueries {
		if o.only != "" && !strings.Contains(q.name, o.only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "cold %s over %s …\n", q.name, proto)
		// The floor's plan and answer are the gateway's own, recorded from
		// one request while nothing else calls the upstream.
		rec.arm()
		answer, ctype, err := postQuery(ctx, ours.url, q.query)
		calls := rec.disarm()
		if err != nil {
			return nil, fmt.Errorf("%s: recording the gateway's answer: %w", q.name, err)
		}
		plan := planOf(calls)
		planFile, answerFile := filepath.Join(dir, fmt.Sprintf("plan-%d.json", i)), filepath.Join(dir, fmt.Sprintf("answer-%d.json", i))
		pb, err := json.Marshal(plan)
		if err != nil {
			return nil, err
		}
		if err := errors.Join(os.WriteFile(planFile, pb, 0o600), os.WriteFile(answerFile, answer, 0o600)); err != nil {
			return nil, err
		}
		floor, err := start(ctx, "", env, lt, "-serve-floor", "{addr}", "-floor-plan", planFile, "-floor-answer", answerFile, "-floor-content-type", ctype)
		if err != nil {
			return nil, fmt.Errorf("%s: floor: %w", q.name, err)
		}
		row := coldRow{Query: q.name, Protocol: proto, Plan: plan}
		coreAnswer, _, err := postQuery(ctx, core.url, q.query)
		if err == nil {
			row.CoreDiffers, err = differ(answer, coreAnswer)
		}
		if err != nil {
			floor.stop()
			return nil, fmt.Errorf("%s: gqlgen core: %w", q.name, err)
		}
		if peer != nil {
			theirs, _, err := postQuery(ctx, peer.url, q.query)
			if err != nil {
				floor.stop()
				return nil, fmt.Errorf("%s: apollo: %w", q.name, err)
			}
			if row.ApolloDiffers, err = differ(answer, theirs); err != nil {
				floor.stop()
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
		}
		measure := func(p *process) (loadtest.Result, error) {
			return loadtest.Run(ctx, loadtest.Config{
				URL: p.url, Query: q.query, Clients: o.clients, Duration: o.d, Warmup: o.warmup,
				PID: p.cmd.Process.Pid, StatsURL: upURL + demo.StatsPath, RootCAs: roots,
			})
		}
		// The servers take turns, round after round, so that a change in
		// the machine's load during the run falls on all of them; each
		// keeps its median round.
		type server struct {
			name string
			p    *process
			into *loadtest.Result
		}
		servers := []server{{"floor", floor, &row.Floor}, {"gqlgen core", core, &row.Core}, {"ours", ours, &row.Ours}}
		if peer != nil {
			row.Apollo = &loadtest.Result{}
			servers = append(servers, server{"Apollo", peer, row.Apollo})
		}
		results := make([][]loadtest.Result, len(servers))
		for range max(o.rounds, 1) {
			for i, s := range servers {
				r, err := measure(s.p)
				if err != nil {
					floor.stop()
					return nil, fmt.Errorf("%s: %s: %w", q.name, s.name, err)
				}
				results[i] = append(results[i], r)
			}
		}
		floor.stop()
		for i, s := range servers {
			*s.into = medianRound(results[i])
			if len(results[i]) > 1 {
				if row.RoundsCPU == nil {
					row.RoundsCPU = map[string][]float64{}
				}
				for _, r := range results[i] {
					row.RoundsCPU[s.name] = append(row.RoundsCPU[s.name], cpuMS(r))
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// differ reports whether two GraphQL answers hold different JSON values
// (formatting aside).
func differ(a, b []byte) (bool, error) {
	var va, vb any
	if err := errors.Join(json.Unmarshal(a, &va), json.Unmarshal(b, &vb)); err != nil {
		return false, fmt.Errorf("decoding the answers: %w", err)
	}
	return !reflect.DeepEqual(va, vb), nil
}

// recorder notes the upstream calls (data endpoints only) made while it is
// armed: what one gateway request costs upstream, in order and overlap.
type recorder struct {
	mu    sync.Mutex
	on    bool
	calls []upstreamCall
}

type upstreamCall struct {
	uri        string
	start, end time.Time
}

func (r *recorder) arm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.calls = true, nil
}

func (r *recorder) disarm() []upstreamCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.calls
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		on := r.on && strings.HasPrefix(req.URL.Path, "/api/")
		r.mu.Unlock()
		start := time.Now()
		h.ServeHTTP(w, req)
		if on {
			r.mu.Lock()
			r.calls = append(r.calls, upstreamCall{req.URL.RequestURI(), start, time.Now()})
			r.mu.Unlock()
		}
	})
}

// endpointOf is a call's endpoint: its path's first four segments
// (/api/v1/referential/billing_site/ for /api/v1/referential/billing_site/BS0001/).
func endpointOf(uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	seg := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 5)
	return "/" + strings.Join(seg[:min(len(seg), 4)], "/") + "/"
}

// planOf turns recorded calls into the floor's plan. Calls to one endpoint
// belong to one stage; an endpoint whose first call started before any
// call of the current stage had been answered joins that stage (it did
// not wait for them), otherwise it starts the next one. A stage's
// concurrency is the most of its calls that were in flight at once.
func planOf(calls []upstreamCall) loadtest.Plan {
	calls = slices.Clone(calls)
	slices.SortStableFunc(calls, func(a, b upstreamCall) int { return a.start.Compare(b.start) })
	type group struct {
		calls []upstreamCall
	}
	var order []string
	groups := map[string]*group{}
	for _, c := range calls {
		e := endpointOf(c.uri)
		if groups[e] == nil {
			groups[e] = &group{}
			order = append(order, e)
		}
		groups[e].calls = append(groups[e].calls, c)
	}
	var stages [][]upstreamCall
	var firstEnd time.Time
	for _, e := range order {
		g := groups[e]
		if len(stages) == 0 || !g.calls[0].start.Before(firstEnd) {
			stages = append(stages, nil)
			firstEnd = g.calls[0].end
		}
		last := len(stages) - 1
		stages[last] = append(stages[last], g.calls...)
		for _, c := range g.calls {
			if c.end.Before(firstEnd) {
				firstEnd = c.end
			}
		}
	}
	var plan loadtest.Plan
	for _, s := range stages {
		st := loadtest.Stage{Concurrency: maxInFlight(s)}
		for _, c := range s {
			st.Paths = append(st.Paths, c.uri)
		}
		plan.Stages = append(plan.Stages, st)
	}
	return plan
}

// maxInFlight is the most calls that overlapped.
func maxInFlight(calls []upstreamCall) int {
	most := 0
	for _, c := range calls {
		n := 0
		for _, d := range calls {
			if !d.start.After(c.start) && d.end.After(c.start) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func cpuMS(r loadtest.Result) float64 { return float64(r.CPUPerRequest) / 1e6 }

// ratio is a/b as "n.n×", or "–" when b is 0.
func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", a/b)
}

// printCold prints the cold table and, below it, what each measurement saw.
func printCold(rows []coldRow, o coldOptions) {
	fmt.Printf("Cold path: data %d projects, %d ennis, %d clients; upstream latency %s; %d clients for %s each after %d warm-up requests per client; gateway with COVAGE_CACHE_TTL=0 RESPONSE_CACHE_MB=0; CPU per request measured from /proc of each server process.\n\n",
		coldSize[0], coldSize[1], coldSize[2], coldLatency, o.clients, o.d, o.warmup)
	fmt.Println("| query | protocol | floor CPU/request ms | gqlgen core | ours | Apollo | core/floor | ours/floor | Apollo/ours | req/s floor / ours / Apollo | p50 ms floor / ours / Apollo | errors | upstream calls/request floor / ours / Apollo | response bytes floor / ours / Apollo | notes |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		// three formats one figure of the floor, ours and Apollo; Apollo's
		// is "–" when it was not run.
		three := func(format string, f func(loadtest.Result) any) string {
			a := "–"
			if r.Apollo != nil {
				a = fmt.Sprintf(format, f(*r.Apollo))
			}
			return fmt.Sprintf(format, f(r.Floor)) + " / " + fmt.Sprintf(format, f(r.Ours)) + " / " + a
		}
		apolloCPU, apolloRatio := "–", "–"
		if r.Apollo != nil {
			apolloCPU = fmt.Sprintf("%.2f", cpuMS(*r.Apollo))
			apolloRatio = ratio(cpuMS(*r.Apollo), cpuMS(r.Ours))
		}
		fmt.Printf("| %s | %s | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Query, r.Protocol, cpuMS(r.Floor), cpuMS(r.Core), cpuMS(r.Ours), apolloCPU,
			ratio(cpuMS(r.Core), cpuMS(r.Floor)), ratio(cpuMS(r.Ours), cpuMS(r.Floor)), apolloRatio,
			three("%.0f", func(x loadtest.Result) any { return x.RPS }),
			three("%s", func(x loadtest.Result) any { return ms(x.P50) }),
			three("%d", func(x loadtest.Result) any { return x.Errors }),
			three("%.2f", func(x loadtest.Result) any { return x.UpstreamPerRequest }),
			three("%d", func(x loadtest.Result) any { return x.RespBytes }),
			coldNotes(r))
	}
}

// printColdDetail prints every measurement of the cold table, with the
// floor's plan (the gateway's upstream GETs, stage by stage) and the
// connections each server opened to the upstream.
func printColdDetail(rows []coldRow) {
	fmt.Println()
	fmt.Println("| query | protocol | server | floor plan (GETs per stage, at most in flight) | requests | req/s | p50 ms | p90 ms | p99 ms | CPU/request ms | each round | peak RSS MB | upstream calls/request | new upstream connections/s | response bytes |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		var stages []string
		for _, s := range r.Plan.Stages {
			stages = append(stages, fmt.Sprintf("%d (%d)", len(s.Paths), s.Concurrency))
		}
		plan := strings.Join(stages, " → ")
		for _, m := range []struct {
			name string
			res  *loadtest.Result
		}{{"floor", &r.Floor}, {"gqlgen core", &r.Core}, {"ours", &r.Ours}, {"Apollo", r.Apollo}} {
			if m.res == nil {
				continue
			}
			x := m.res
			each := "–"
			if rs := r.RoundsCPU[m.name]; len(rs) > 0 {
				parts := make([]string, len(rs))
				for i, c := range rs {
					parts[i] = fmt.Sprintf("%.3f", c)
				}
				each = strings.Join(parts, ", ")
			}
			fmt.Printf("| %s | %s | %s | %s | %d | %.1f | %s | %s | %s | %.3f | %s | %.1f | %.2f | %.1f | %d |\n",
				r.Query, r.Protocol, m.name, plan, x.Requests, x.RPS, ms(x.P50), ms(x.P90), ms(x.P99),
				cpuMS(*x), each, float64(x.PeakRSS)/(1<<20), x.UpstreamPerRequest, x.UpstreamConnsPerSec, x.RespBytes)
		}
	}
}

// coldNotes says where the three did not do the same work: different
// upstream calls per request, or answers of different sizes.
func coldNotes(r coldRow) string {
	var notes []string
	if d := r.Ours.UpstreamPerRequest - r.Floor.UpstreamPerRequest; d > 0.05 || d < -0.05 {
		notes = append(notes, "floor and ours made different upstream calls")
	}
	if r.Apollo != nil {
		if d := r.Apollo.UpstreamPerRequest - r.Ours.UpstreamPerRequest; d > 0.05 {
			notes = append(notes, fmt.Sprintf("Apollo made %.2f more upstream calls per request", d))
		} else if d < -0.05 {
			notes = append(notes, fmt.Sprintf("Apollo made %.2f fewer upstream calls per request", -d))
		}
		if r.ApolloDiffers {
			notes = append(notes, "Apollo's answer holds different data")
		}
		if !sameSize(r.Apollo.RespBytes, r.Ours.RespBytes) {
			notes = append(notes, "Apollo's answer differs in size by more than 1%")
		}
	}
	if r.Floor.RespBytes != r.Ours.RespBytes {
		notes = append(notes, "the floor's answer is not the gateway's size")
	}
	if d := r.Core.UpstreamPerRequest - r.Ours.UpstreamPerRequest; d > 0.05 || d < -0.05 {
		notes = append(notes, "the gqlgen core and ours made different upstream calls")
	}
	if r.CoreDiffers {
		notes = append(notes, "the gqlgen core's answer holds different data")
	}
	// After warm-up a pool that keeps its connections opens none; one
	// that does not pays a TCP (and TLS) handshake per call, which is part
	// of its CPU here.
	for _, m := range []struct {
		name string
		res  *loadtest.Result
	}{{"the floor", &r.Floor}, {"the gqlgen core", &r.Core}, {"ours", &r.Ours}, {"Apollo", r.Apollo}} {
		if m.res != nil && m.res.UpstreamConnsPerSec >= 1 {
			notes = append(notes, fmt.Sprintf("%s opened %.0f upstream connections/s", m.name, m.res.UpstreamConnsPerSec))
		}
	}
	if len(notes) == 0 {
		return "same calls, same answer size"
	}
	return strings.Join(notes, "; ")
}

func sameSize(a, b int) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d*100 <= max(a, b)
}

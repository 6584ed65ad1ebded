package loadtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
)

// upstreamLog is an httptest upstream that records every GET: its path
// and query, its Authorization header, and how many were in flight at
// most. Paths under /fail/ are answered 500. A billing-site GET is held
// until holdFor GETs are in flight or holdAtMost has passed, so that a
// floor making more GETs at once than a stage allows is seen doing so; a
// floor that keeps to it only waits, which no assertion depends on.
type upstreamLog struct {
	mu          sync.Mutex
	paths       []string
	auth        []string
	inFlight    int
	maxInFlight int
	// seenWhenStarted is, for each path, how many GETs had finished when
	// it started: the stages' order, by counts rather than timings.
	finished        int
	seenWhenStarted map[string]int
	// conns counts the connections the floor opened.
	conns atomic.Int64
}

const (
	holdFor    = 4 // one more than the billing-site stage's concurrency
	holdAtMost = 20 * time.Millisecond
)

func (u *upstreamLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.paths = append(u.paths, r.URL.RequestURI())
	u.auth = append(u.auth, r.Header.Get("Authorization"))
	u.seenWhenStarted[r.URL.RequestURI()] = u.finished
	u.inFlight++
	u.maxInFlight = max(u.maxInFlight, u.inFlight)
	u.mu.Unlock()
	if strings.Contains(r.URL.Path, "/billing_site/") {
		for deadline := time.Now().Add(holdAtMost); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
			u.mu.Lock()
			enough := u.inFlight >= holdFor
			u.mu.Unlock()
			if enough {
				break
			}
		}
	}
	// Counted as finished (and no longer in flight) before the answer is
	// written, so that no client can have read it yet.
	u.mu.Lock()
	u.inFlight--
	u.finished++
	u.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/fail/") {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	// A body larger than one read, so the floor must read to the end.
	_, _ = w.Write([]byte("[" + strings.Repeat(`{"code":"X"},`, 2000) + `{"code":"Y"}]`))
}

// poolSize is the floor's connection pool in these tests.
const poolSize = 8

func serveFloor(t *testing.T, plan Plan) (*upstreamLog, *httptest.Server, []byte) {
	t.Helper()
	up := &upstreamLog{seenWhenStarted: map[string]int{}}
	upSrv := httptest.NewUnstartedServer(up)
	upSrv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			up.conns.Add(1)
		}
	}
	upSrv.Start()
	t.Cleanup(upSrv.Close)
	rt := covage.NewTransport(covage.Pool{MaxConnsPerHost: poolSize, IdleConnTimeout: time.Minute}, nil)
	t.Cleanup(rt.CloseIdleConnections)
	answer := []byte(`{"data":{"terminateReasons":[{"code":"MOVE","label":"Déménagement"}]}}`)
	floor := httptest.NewServer(&Floor{
		Base: upSrv.URL, Plan: plan, Client: &http.Client{Transport: rt},
		Token: "bench-token", Answer: answer, ContentType: "application/graphql-response+json",
	})
	t.Cleanup(floor.Close)
	return up, floor, answer
}

func postQuery(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"query":"{ terminateReasons { code label } }"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// TestFloorMakesThePlannedCallsAndWritesTheAnswer checks that per request
// the floor makes exactly the plan's GETs, with the bearer token, at most
// a stage's concurrency at once, a stage only after the previous one has
// finished, and answers the recorded bytes with the recorded content type.
func TestFloorMakesThePlannedCallsAndWritesTheAnswer(t *testing.T) {
	var sites []string
	for i := range 20 {
		sites = append(sites, "/api/v1/referential/billing_site/BS"+string(rune('A'+i))+"/")
	}
	plan := Plan{Stages: []Stage{
		{Paths: []string{"/api/v1/referential/project/"}},
		{Paths: sites, Concurrency: 3},
		{Paths: []string{"/api/v1/referential/enni/?code_client=C1%2CC2", "/api/v1/referential/change_reason/"}},
	}}
	up, floor, answer := serveFloor(t, plan)

	for range 2 {
		resp, body := postQuery(t, floor.URL+"/query")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "application/graphql-response+json", resp.Header.Get("Content-Type"))
		require.Equal(t, answer, body)
	}

	var want []string
	for _, s := range plan.Stages {
		want = append(want, s.Paths...)
	}
	up.mu.Lock()
	require.Equal(t, 2*plan.Calls(), len(up.paths))
	got := slices.Clone(up.paths)
	slices.Sort(got)
	wantTwice := append(slices.Clone(want), want...)
	slices.Sort(wantTwice)
	require.Equal(t, wantTwice, got, "exactly the planned GETs, twice")
	for _, a := range up.auth {
		require.Equal(t, "Bearer bench-token", a)
	}
	require.LessOrEqual(t, up.maxInFlight, 3, "no stage has more GETs in flight than its concurrency")
	// A connection goes back to the pool only once its answer was read to
	// the end; none is ever closed here, so the pool's cap bounds them.
	require.LessOrEqual(t, up.conns.Load(), int64(poolSize), "every answer is read to its end, so connections are reused")
	up.mu.Unlock()

	// One more request, alone, to see the stages' order by counts.
	up.mu.Lock()
	up.seenWhenStarted = map[string]int{}
	base := up.finished
	up.mu.Unlock()
	postQuery(t, floor.URL+"/query")
	up.mu.Lock()
	defer up.mu.Unlock()
	require.Equal(t, 0, up.seenWhenStarted[plan.Stages[0].Paths[0]]-base)
	for _, p := range sites {
		require.GreaterOrEqual(t, up.seenWhenStarted[p]-base, 1, "%s waits for the projects", p)
	}
	for _, p := range plan.Stages[2].Paths {
		require.GreaterOrEqual(t, up.seenWhenStarted[p]-base, 1+len(sites), "%s waits for every billing site", p)
	}
}

// TestFloorReportsUpstreamFailures checks that a failed GET makes the
// request fail, so a load run counts it as an error instead of measuring a
// floor that skipped work.
func TestFloorReportsUpstreamFailures(t *testing.T) {
	_, floor, _ := serveFloor(t, Plan{Stages: []Stage{{Paths: []string{"/ok/", "/fail/x/"}}}})
	resp, body := postQuery(t, floor.URL+"/query")
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.Contains(t, string(body), `"errors"`)
	require.Contains(t, string(body), "GET /fail/x/: 500")
}

func TestReadPlan(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"stages":[{"paths":["/a/","/b/"],"concurrency":8}]}`), 0o600))
	p, err := ReadPlan(good)
	require.NoError(t, err)
	require.Equal(t, Plan{Stages: []Stage{{Paths: []string{"/a/", "/b/"}, Concurrency: 8}}}, p)

	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{"stages":[]}`), 0o600))
	_, err = ReadPlan(empty)
	require.ErrorContains(t, err, "no upstream GET")
}

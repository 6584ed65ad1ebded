// Package federation_test proves the gateway works as a Federation v2
// subgraph behind a real router from the npm registry. The Node parts live
// beside this file (package.json, package-lock.json): orders.mjs is a second
// subgraph, compose.mjs composes with @apollo/composition and
// @theguild/federation-composition, router.mjs runs @apollo/gateway. Every
// Node process is preloaded with offline.cjs, which refuses any connection
// that leaves loopback, so the test also proves that nothing is fetched from
// a CDN or reported to a vendor at run time.
//
// Run `npm ci` in this folder first. Without Node or its packages the test
// is skipped, unless CI is set, where it fails instead.
package federation_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/auth"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/loaders"
)

// orderFormQuery starts in the orders subgraph and reads door and billing
// site fields from the gateway: the query of the README.
const orderFormQuery = `query OrderForm {
  orders(first: 20) {
    reference
    enni { reference label offer }
    billingSite { code description }
  }
}`

// order is what orders.mjs serves, read from its ORDERS variable.
type order struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Enni        string `json:"enni"`
	BillingSite string `json:"billingSite"`
}

// sampleOrders returns 20 orders over the demo sample: 8 distinct doors
// and 5 distinct billing sites, one of each unknown to Covage.
func sampleOrders(ds *demo.Dataset) []order {
	doors := []string{"CN999999"}
	for _, e := range ds.Ennis[:7] {
		doors = append(doors, e.Reference)
	}
	sites := []string{"AUX00", "AUX01", "AUX02", "AUX03", "AUX99"}
	out := make([]order, 20)
	for i := range out {
		out[i] = order{
			ID:          fmt.Sprintf("O%02d", i+1),
			Reference:   fmt.Sprintf("ORD-2026-%04d", i+1),
			Enni:        doors[(i+1)%len(doors)],
			BillingSite: sites[i%len(sites)],
		}
	}
	return out
}

// want is the router's answer to orderFormQuery, built from the demo data:
// a door or site Covage does not know keeps the key the orders subgraph
// holds, and its other fields are null.
func want(ds *demo.Dataset, orders []order) string {
	type door struct {
		Reference string  `json:"reference"`
		Label     *string `json:"label"`
		Offer     *string `json:"offer"`
	}
	type site struct {
		Code        string  `json:"code"`
		Description *string `json:"description"`
	}
	type row struct {
		Reference   string `json:"reference"`
		Enni        door   `json:"enni"`
		BillingSite site   `json:"billingSite"`
	}
	rows := make([]row, len(orders))
	for i, o := range orders {
		rows[i] = row{Reference: o.Reference, Enni: door{Reference: o.Enni}, BillingSite: site{Code: o.BillingSite}}
		for _, e := range ds.Ennis {
			if e.Reference == o.Enni {
				rows[i].Enni.Label, rows[i].Enni.Offer = &e.Label, &e.Offer
			}
		}
		for _, s := range ds.BillingSites {
			if s.Code == o.BillingSite {
				rows[i].BillingSite.Description = &s.Description
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"orders": rows})
	return string(b)
}

// TestSupergraph composes the gateway (in production mode: introspection
// off) with the orders subgraph, runs a real router in front of both, and
// checks the answer and what the entity fetches cost Covage.
func TestSupergraph(t *testing.T) {
	node := requireNode(t)
	ds := demo.Sample()
	up := demo.New(ds)
	upstream := httptest.NewServer(up)
	t.Cleanup(upstream.Close)
	log := &lockedBuffer{}
	gw := httptest.NewServer(newGateway(t, upstream.URL, log, production))
	t.Cleanup(gw.Close)
	subgraph := gw.URL + "/query"

	orders := sampleOrders(ds)
	ordersJSON, err := json.Marshal(orders)
	require.NoError(t, err)
	ordersURL := node.serve(t, "ORDERS="+string(ordersJSON), "orders.mjs")

	supergraph := filepath.Join(t.TempDir(), "supergraph.graphql")
	sdl, stderr, err := node.run(t, "", "compose.mjs", "covage="+subgraph, "orders="+ordersURL)
	require.NoError(t, err, stderr)
	require.NoError(t, os.WriteFile(supergraph, sdl, 0o600))
	router := node.serve(t, "", "router.mjs", supergraph)

	t.Run("order form", func(t *testing.T) {
		up.Reset()
		got := post(t, router, orderFormQuery, "fed-order-form")
		require.JSONEq(t, want(ds, orders), string(got))
		// 8 doors in one _entities call: one list call. 5 distinct
		// billing sites: one GET each, the unknown one included.
		require.Equal(t, int64(1), up.Calls("enni"), "doors")
		require.Equal(t, int64(5), up.Calls("billing_site"), "billing sites")
		require.Equal(t, up.Calls("enni")+up.Calls("billing_site"), up.Total())
		// The router forwarded the caller's request id to the subgraph.
		require.Contains(t, log.String(), `"request_id":"fed-order-form"`)
	})

	t.Run("relation under entities", func(t *testing.T) {
		up.Reset()
		got := post(t, router, `{ orders(first: 20) { enni { reference projects { code } } } }`, "fed-relation")
		require.Contains(t, string(got), `"projects":[{"code":"PRJ-DC123-FIBRE"}`)
		// The doors' projects cost one project list call, however many doors.
		require.Equal(t, int64(1), up.Calls("enni"))
		require.Equal(t, int64(1), up.Calls("project"))
		require.Equal(t, int64(2), up.Total())
	})
}

// TestRouterForwardsCallers checks that the rate limit sees each caller
// behind the router, not the router: with a budget of one request per
// authenticated caller (and no refill during the test), a caller's second
// query through the router is refused by the gateway, and another caller's
// first query still passes. router.mjs forwards the callers' credentials,
// as the README asks of any router.
func TestRouterForwardsCallers(t *testing.T) {
	node := requireNode(t)
	ds := demo.Sample()
	up := demo.New(ds)
	upstream := httptest.NewServer(up)
	t.Cleanup(upstream.Close)
	sec := production
	sec.RateLimit = gateway.RateLimit{RPS: 0.001, Burst: 1}
	// Each caller is an API key; the limit keys on the key's name.
	keys := filepath.Join(t.TempDir(), "api-keys")
	digest := func(k string) string { d := sha256.Sum256([]byte(k)); return hex.EncodeToString(d[:]) }
	require.NoError(t, os.WriteFile(keys, []byte(digest("alice-key")+" alice\n"+digest("bob-key")+" bob\n"+digest("compose-key")+" compose\n"), 0o600))
	authn, err := auth.New(context.Background(), auth.Config{APIKeysFile: keys})
	require.NoError(t, err)
	t.Cleanup(func() { _ = authn.Close(context.Background()) })
	sec.Authenticator = authn
	gw := httptest.NewServer(newGateway(t, upstream.URL, &lockedBuffer{}, sec))
	t.Cleanup(gw.Close)

	ordersJSON, err := json.Marshal(sampleOrders(ds))
	require.NoError(t, err)
	ordersURL := node.serve(t, "ORDERS="+string(ordersJSON), "orders.mjs")
	supergraph := filepath.Join(t.TempDir(), "supergraph.graphql")
	sdl, stderr, err := node.run(t, `COMPOSE_HEADERS={"X-API-Key":"compose-key"}`, "compose.mjs", "covage="+gw.URL+"/query", "orders="+ordersURL)
	require.NoError(t, err, stderr)
	require.NoError(t, os.WriteFile(supergraph, sdl, 0o600))
	router := node.serve(t, "", "router.mjs", supergraph)

	// One entity fetch, so one gateway request, per query.
	const doors = `{ orders(first: 20) { enni { label } } }`
	as := func(who string) http.Header { return http.Header{auth.APIKeyHeader: {who + "-key"}} }

	data, errs := postAs(t, router, doors, as("alice"))
	require.Empty(t, errs, string(data))
	require.Contains(t, string(data), `"label":"Collecte Nationale Entreprise"`)

	data, errs = postAs(t, router, doors, as("alice"))
	require.NotEmpty(t, errs, "alice's second query is over her budget: %s", data)
	require.NotContains(t, string(data), `"label":"Collecte`)

	data, errs = postAs(t, router, doors, as("bob"))
	require.Empty(t, errs, "bob has a budget of his own: %s", data)
	require.Contains(t, string(data), `"label":"Collecte Nationale Entreprise"`)
	require.Equal(t, int64(2), up.Calls("enni"), "the refused fetch cost Covage nothing")
}

// TestComposition checks which subgraphs compose with the gateway's SDL,
// under both composition libraries: a subgraph that also defines Node,
// Query.node, PageInfo and OrderDirection composes, because the gateway
// marks what it shares; without those marks it does not; and Apollo's
// composition refuses a Query.node whose Node types do not overlap ours,
// as the README says.
func TestComposition(t *testing.T) {
	node := requireNode(t)
	upstream := httptest.NewServer(demo.New(demo.Sample()))
	t.Cleanup(upstream.Close)
	gw := httptest.NewServer(newGateway(t, upstream.URL, &lockedBuffer{}, production))
	t.Cleanup(gw.Close)
	subgraph := gw.URL + "/query"

	// The gateway's SDL with every @federation__shareable removed.
	var svc struct {
		Data struct {
			Service struct{ SDL string } `json:"_service"`
		}
	}
	require.NoError(t, json.Unmarshal(postRaw(t, subgraph, `{ _service { sdl } }`, nil), &svc))
	require.Contains(t, svc.Data.Service.SDL, "@federation__shareable")
	unshared := filepath.Join(t.TempDir(), "unshared.graphql")
	const def = "directive @federation__shareable"
	stripped := strings.ReplaceAll(strings.ReplaceAll(svc.Data.Service.SDL, def, "\x00"), " @federation__shareable", "")
	require.NoError(t, os.WriteFile(unshared, []byte(strings.ReplaceAll(stripped, "\x00", def)), 0o600))

	cases := []struct {
		name     string
		covage   string
		other    string
		failures []string // composition errors expected; none means it composes
	}{
		{"relay parts shared", "covage=" + subgraph, "relay=file:subgraphs/relay.graphql", nil},
		{"relay parts not marked shareable", "covage=file:" + unshared, "relay=file:subgraphs/relay.graphql",
			[]string{`apollo: INVALID_FIELD_SHARING: Non-shareable field "Query.node"`, `guild: INVALID_FIELD_SHARING: Non-shareable field "Query.node"`}},
		{"disjoint Query.node", "covage=" + subgraph, "disjoint=file:subgraphs/disjoint-node.graphql",
			[]string{`apollo: SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sdl, stderr, err := node.run(t, "", "compose.mjs", tc.covage, tc.other)
			if tc.failures == nil {
				require.NoError(t, err, stderr)
				require.Contains(t, string(sdl), "join__Graph")
				return
			}
			require.Error(t, err)
			for _, f := range tc.failures {
				require.Contains(t, stderr, f)
			}
		})
	}
}

// production is production mode's switches: introspection, suggestions and
// the Playground off.
var production = gateway.Security{DisableIntrospection: true, DisableSuggestions: true, DisablePlayground: true}

// newGateway returns the gateway with security settings sec over the demo
// upstream at base.
func newGateway(t *testing.T, base string, log io.Writer, sec gateway.Security) http.Handler {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(log, nil))
	client, err := covage.New(covage.Config{BaseURL: base, Timeout: 5 * time.Second, Logger: logger})
	require.NoError(t, err)
	return gateway.New(gateway.Options{
		Upstream: client,
		Loaders:  loaders.Config{IsNotFound: func(err error) bool { return errors.Is(err, covage.ErrNotFound) }},
		Logger:   logger,
		Security: sec,
	})
}

// post sends query to a GraphQL endpoint and returns its data, failing the
// test on any error.
func post(t *testing.T, url, query, requestID string) json.RawMessage {
	t.Helper()
	data, errs := postAs(t, url, query, http.Header{"X-Request-Id": {requestID}})
	require.Empty(t, errs, string(data))
	return data
}

// postAs sends query with headers and returns its data and errors.
func postAs(t *testing.T, url, query string, headers http.Header) (json.RawMessage, []map[string]any) {
	t.Helper()
	var out struct {
		Data   json.RawMessage  `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	raw := postRaw(t, url, query, headers)
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return out.Data, out.Errors
}

func postRaw(t *testing.T, url, query string, headers http.Header) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	for name, values := range headers {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	return raw
}

// nodeRunner runs this folder's scripts with Node, offline.
type nodeRunner struct{ bin string }

// requireNode finds Node and the installed packages, or skips the test
// (fails it when CI is set).
func requireNode(t *testing.T) nodeRunner {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("node_modules", "@apollo", "gateway", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the federation test needs Node and `npm ci` in test/federation: %v", err)
		}
		t.Skipf("Node or its packages missing (run npm ci in test/federation): %v", err)
	}
	return nodeRunner{bin: bin}
}

func (n nodeRunner) command(ctx context.Context, env string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, n.bin, append([]string{"--require", "./offline.cjs"}, args...)...)
	cmd.Env = append(os.Environ(), "APOLLO_TELEMETRY_DISABLED=true", "APOLLO_KEY=")
	if env != "" {
		cmd.Env = append(cmd.Env, env)
	}
	return cmd
}

// run runs a script to its end, with env (KEY=value) if set, and returns
// its stdout and stderr.
func (n nodeRunner) run(t *testing.T, env string, args ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := n.command(ctx, env, args...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	stdout, err = cmd.Output()
	requireOffline(t, errBuf.String())
	return stdout, errBuf.String(), err
}

// serve starts a server script, waits for its "listening <url>" line and
// returns the URL. The process is killed, by its PID, when the test ends,
// and its stderr is checked for connections that left loopback.
func (n nodeRunner) serve(t *testing.T, env string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := n.command(ctx, env, args...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel() // kills the process
		_ = cmd.Wait()
		requireOffline(t, stderr.String())
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				urls <- url
			}
		}
		close(urls)
	}()
	select {
	case url, ok := <-urls:
		require.True(t, ok, "%s exited before listening: %s", args[0], stderr.String())
		return url
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not start: %s", args[0], stderr.String())
		return ""
	}
}

// requireOffline fails the test when offline.cjs refused a connection.
func requireOffline(t *testing.T, stderr string) {
	t.Helper()
	require.NotContains(t, stderr, "offline: blocked", "a Node process tried to leave loopback")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package gateway_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/telemetry"
)

// observed is a gateway whose metrics, traces and upstream transport are
// instrumented, with what the upstream saw of each call's headers.
type observed struct {
	*env
	metrics *telemetry.Metrics
	spans   *tracetest.InMemoryExporter

	mu      sync.Mutex
	headers []http.Header
	failing string // upstream path prefix that answers 503
}

func newObserved(t *testing.T, opts ...option) *observed {
	t.Helper()
	o := &observed{spans: tracetest.NewInMemoryExporter()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(o.spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	o.metrics = telemetry.NewMetrics(prometheus.NewRegistry(), telemetry.BuildInfo{Version: "test", Revision: "unknown"})
	up := telemetry.NewUpstream(http.DefaultTransport.(*http.Transport).Clone(), o.metrics, tp)
	opts = append(opts,
		withClient(func(c *covage.Config) {
			c.HTTPClient = &http.Client{Transport: up.Transport()}
			c.OnDrift = o.metrics.Drift
			// As server.go wires it: the client sets the request id.
			c.Headers = telemetry.SetRequestID
		}),
		withGateway(func(g *gateway.Options) { g.Metrics, g.Tracer = o.metrics, tp }))
	o.env = newEnv(t, opts...)
	o.fault("/api/", func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.headers = append(o.headers, r.Header.Clone())
		failing := o.failing != "" && strings.HasPrefix(r.URL.Path, o.failing)
		o.mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		o.demo.ServeHTTP(w, r)
	})
	return o
}

// post sends a GraphQL request with headers and returns the response's
// X-Request-Id.
func (o *observed) post(t *testing.T, query string, vars map[string]any, header map[string]string) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, o.gateway.URL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	got := readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode, got)
	return resp.Header.Get(telemetry.RequestIDHeader)
}

// upstreamHeaders returns the headers of the upstream calls so far.
func (o *observed) upstreamHeaders() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.headers)
}

// tree renders the finished spans as an indented tree, children sorted by
// name, so the test can show and compare it.
func tree(spans tracetest.SpanStubs) string {
	children := map[trace.SpanID][]tracetest.SpanStub{}
	known := map[trace.SpanID]bool{}
	for _, s := range spans {
		known[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if p := s.Parent.SpanID(); p.IsValid() && known[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(list []tracetest.SpanStub, depth int)
	walk = func(list []tracetest.SpanStub, depth int) {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		for _, s := range list {
			fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), s.Name)
			walk(children[s.SpanContext.SpanID()], depth+1)
		}
	}
	walk(roots, 0)
	return b.String()
}

// TestTraceSpanTree shows that one GraphQL operation is one trace: the
// operation's span is the parent of its dataloader batches and of every
// upstream HTTP call, and Covage receives the trace context.
func TestTraceSpanTree(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{
			name:  "relation served by look-ahead",
			query: `{ projects { ennis { reference } } }`,
			want: "query\n" +
				"  covage GET enni\n" +
				"  covage GET project\n",
		},
		{
			name:  "lookups batched by a dataloader",
			query: `query Two { a: project(code: "FLASH") { code } b: project(code: "FLASH-2") { code } }`,
			want: "query Two\n" +
				"  dataloader project_by_code\n" +
				"    covage GET project\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The two lookups are counted (internal/plan/lone.go), so their
			// batch leaves as soon as both keys are in. A window as long
			// as the test keeps a goroutine that starts late, on a loaded
			// machine, from sending its key in a batch of its own (seen
			// once in 20 runs under -race).
			o := newObserved(t, withWait(time.Minute))
			o.post(t, tt.query, nil, nil)

			spans := o.spans.GetSpans()
			got := tree(spans)
			t.Logf("span tree of %s:\n%s", tt.query, got)
			require.Equal(t, tt.want, got)

			traceID := spans[0].SpanContext.TraceID()
			for _, s := range spans {
				require.Equal(t, traceID, s.SpanContext.TraceID(), "every span is in one trace")
			}
			hs := o.upstreamHeaders()
			require.NotEmpty(t, hs)
			for _, h := range hs {
				tp := h.Get("Traceparent")
				require.Contains(t, tp, traceID.String(), "Covage receives the W3C trace context")
			}
		})
	}
}

// logLines returns the "graphql request" lines logged so far.
func logLines(t *testing.T, e *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == "graphql request" {
			out = append(out, m)
		}
	}
	return out
}

// TestRequestLog checks the one log line per GraphQL request, the request
// id's round trip to the client and to Covage, and that neither variables
// nor credentials are logged.
func TestRequestLog(t *testing.T) {
	const token = "tok-s3cr3t-never-logged"
	const secretVar = "variable-value-never-logged"
	long := strings.Repeat("x", 129)
	tests := []struct {
		name       string
		requestID  string
		query      string
		fault      string // upstream path prefix answering 503
		mediaType  string // Content-Type, application/json when empty
		wantSameID bool
		wantOp     string
		wantCodes  []any
		wantOut    string
	}{
		{name: "client id kept", requestID: "req-42", query: `query Projects($code: String) { projects(filter: {code: $code}) { code ennis { reference } } }`,
			wantSameID: true, wantOp: "Projects", wantCodes: []any{}, wantOut: "ok"},
		{name: "missing id generated", query: `{ terminateReasons { code } }`,
			wantOp: "anonymous", wantCodes: []any{}, wantOut: "ok"},
		{name: "too long id replaced", requestID: long, query: `{ terminateReasons { code } }`,
			wantOp: "anonymous", wantCodes: []any{}, wantOut: "ok"},
		{name: "upstream failure coded", requestID: "req-503", query: `query Doors { projects { code } ennis { reference } }`, fault: "/api/v1/referential/enni",
			wantSameID: true, wantOp: "Doors", wantCodes: []any{"UPSTREAM_UNAVAILABLE"}, wantOut: "partial"},
		{name: "invalid query", requestID: "req-bad", query: `{ nope }`,
			wantSameID: true, wantOp: "anonymous", wantCodes: []any{"GRAPHQL_VALIDATION_FAILED"}, wantOut: "error"},
		{name: "refused before GraphQL", requestID: "req-csrf", query: `{ terminateReasons { code } }`, mediaType: "text/plain",
			wantSameID: true, wantOp: "anonymous", wantCodes: []any{"CSRF_PREVENTED"}, wantOut: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newObserved(t, withAuth(func(string) covage.Auth { return covage.StaticToken(token) }))
			o.mu.Lock()
			o.failing = tt.fault
			o.mu.Unlock()
			body, err := json.Marshal(map[string]any{"query": tt.query, "variables": map[string]any{"code": secretVar}})
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPost, o.gateway.URL+"/query", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", cmp.Or(tt.mediaType, "application/json"))
			if tt.requestID != "" {
				req.Header.Set(telemetry.RequestIDHeader, tt.requestID)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = readAll(t, resp)
			id := resp.Header.Get(telemetry.RequestIDHeader)
			if tt.wantSameID {
				require.Equal(t, tt.requestID, id)
			} else {
				require.NotEqual(t, tt.requestID, id)
				require.True(t, telemetry.ValidRequestID(id), id)
			}

			lines := logLines(t, o.env)
			require.Len(t, lines, 1, o.log.String())
			line := lines[0]
			require.Equal(t, id, line["request_id"])
			require.Equal(t, tt.wantOp, line["operation"])
			require.Equal(t, tt.wantOut, line["outcome"])
			require.ElementsMatch(t, tt.wantCodes, line["error_codes"])
			require.Contains(t, line, "duration_ms")

			hs := o.upstreamHeaders()
			require.EqualValues(t, len(hs), line["upstream_calls"], "upstream_calls counts the HTTP calls Covage received")
			for _, h := range hs {
				require.Equal(t, id, h.Get(telemetry.RequestIDHeader), "Covage receives the request id")
			}
			logged := o.log.String()
			require.NotContains(t, logged, secretVar)
			require.NotContains(t, logged, token)
		})
	}
}

// TestMetricsEndpoint checks the metric families /metrics serves after a
// few requests, and that their labels are the bounded ones.
func TestMetricsEndpoint(t *testing.T) {
	ds := demo.Sample()
	ds.TerminateReasons = append(ds.TerminateReasons, "Motif ajouté par Covage demain")
	o := newObserved(t, withData(ds))
	o.post(t, `query P { projects { code ennis { reference } } }`, nil, nil)
	o.post(t, `query Two { a: project(code: "FLASH") { code } b: project(code: "FLASH-2") { code } }`, nil, nil)
	o.post(t, `query Reasons { terminateReasons { code label } }`, nil, nil)

	resp, err := http.Get(o.gateway.URL + "/metrics")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := readAll(t, resp)
	for _, want := range []string{
		`gateway_graphql_request_duration_seconds_count{operation="P",outcome="ok"} 1`,
		`gateway_graphql_request_duration_seconds_count{operation="Two",outcome="ok"} 1`,
		`gateway_upstream_request_duration_seconds_count{endpoint="project",status="2xx"} 2`,
		`gateway_upstream_request_duration_seconds_count{endpoint="terminate_reason",status="2xx"} 1`,
		`gateway_upstream_request_duration_seconds_count{endpoint="enni",status="2xx"} 1`,
		`gateway_dataloader_batch_size_sum{loader="project_by_code"} 2`,
		`gateway_build_info{goversion="",revision="unknown",version="test"} 1`,
		`gateway_upstream_unknown_values_total{kind="terminate_reason"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		require.Contains(t, body, want)
	}
}

// TestVersionAndReadiness checks the operational endpoints New serves by
// default.
func TestVersionAndReadiness(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path string
		want string
	}{
		{"/version", `"revision":`},
		{"/readyz", `"status":"ready"`},
		{"/healthz", `"status":"ok"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(e.gateway.URL + tt.path)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.Contains(t, readAll(t, resp), tt.want)
			require.NotEmpty(t, resp.Header.Get(telemetry.RequestIDHeader))
		})
	}
}

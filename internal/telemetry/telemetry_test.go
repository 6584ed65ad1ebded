package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"with space and !~", true},
		{strings.Repeat("a", 128), true},
		{"", false},
		{strings.Repeat("a", 129), false},
		{"new\nline", false},
		{"tab\there", false},
		{"é", false},
		{"nul\x00", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.id), func(t *testing.T) {
			require.Equal(t, tt.want, ValidRequestID(tt.id))
		})
	}
}

func FuzzValidRequestID(f *testing.F) {
	f.Add("abc")
	f.Add("a\r\nb")
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidRequestID(id) {
			return
		}
		// An accepted id is safe in a header and in a log line.
		require.LessOrEqual(t, len(id), maxRequestID)
		require.NotContains(t, id, "\n")
		h := http.Header{}
		h.Set(RequestIDHeader, id)
		require.Equal(t, id, h.Get(RequestIDHeader))
	})
}

func TestWithRequestID(t *testing.T) {
	var seen string
	h := WithRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = RequestID(r.Context())
	}))
	for _, in := range []string{"given-id", "", "bad\x7fid"} {
		t.Run(in, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if in != "" {
				req.Header.Set(RequestIDHeader, in)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(RequestIDHeader)
			require.Equal(t, seen, got)
			if ValidRequestID(in) {
				require.Equal(t, in, got)
			} else {
				require.NotEqual(t, in, got)
				require.True(t, ValidRequestID(got))
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/api/v1/referential/project", "project"},
		{"/api/v1/referential/enni/", "enni"},
		{"/prefix/api/v1/referential/billing_site/AUX00/", "billing_site"},
		{"/api/v1/referential/terminate_reason/", "terminate_reason"},
		{"/api/v1/referential/something_new/", "other"},
		{"/auth/realms/covage/protocol/openid-connect/token", "token"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			require.Equal(t, tt.want, Endpoint(tt.path))
		})
	}
}

// TestOperationLabelCap shows that operation names beyond MaxOperations
// fold into "other", while names already seen keep their label.
func TestOperationLabelCap(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry(), BuildInfo{})
	for i := range MaxOperations {
		require.Equal(t, fmt.Sprintf("Op%d", i), m.operationLabel(fmt.Sprintf("Op%d", i)))
	}
	require.Equal(t, "other", m.operationLabel("OneTooMany"))
	require.Equal(t, "Op7", m.operationLabel("Op7"))
	require.Equal(t, "anonymous", m.operationLabel(""))
	require.Equal(t, "other", m.operationLabel(strings.Repeat("A", 101)))
}

func TestLogHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := context.WithValue(context.Background(), requestKey{}, &Request{ID: "rid-1"})
	log.InfoContext(ctx, "inside")
	log.InfoContext(ctx, "explicit", "request_id", "rid-1")
	log.Info("outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	for i, want := range []string{`"request_id":"rid-1"`, `"request_id":"rid-1"`, ""} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &m))
		if want == "" {
			require.NotContains(t, m, "request_id")
			continue
		}
		require.Equal(t, 1, strings.Count(lines[i], `"request_id"`), lines[i])
	}
}

func TestNilMetricsAreSafe(t *testing.T) {
	var m *Metrics
	require.NotPanics(t, func() {
		m.Drift("offer", "NEW")
		m.CacheEvent("project", "hit")
		m.Retry("project")
		m.BreakerState("covage", "open")
		m.Batch("project_by_code", 3)
	})
}

func TestBreakerStateIsOneHot(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, BuildInfo{})
	m.BreakerState("covage", "open")
	m.BreakerState("covage", "half-open")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	require.Contains(t, body, `gateway_circuit_breaker_state{breaker="covage",state="half-open"} 1`)
	require.Contains(t, body, `gateway_circuit_breaker_state{breaker="covage",state="open"} 0`)
	require.Contains(t, body, `gateway_circuit_breaker_state{breaker="covage",state="closed"} 0`)
}

func TestTracingEnabled(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			require.Equal(t, tt.want, TracingEnabled(func(k string) string { return tt.env[k] }))
		})
	}
}

func TestNewTracerProviderRejectsGRPC(t *testing.T) {
	env := map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
	_, _, err := NewTracerProvider(context.Background(), func(k string) string { return env[k] }, BuildInfo{})
	require.ErrorContains(t, err, "http/protobuf")
}

func TestBuildInfo(t *testing.T) {
	b := ReadBuildInfo("v1.2.3")
	require.Equal(t, "v1.2.3", b.Version)
	require.NotEmpty(t, b.Revision)
	require.True(t, strings.HasPrefix(b.UserAgent(), "covage-gateway/v1.2.3 (rev "), b.UserAgent())
	require.Equal(t, "dev", ReadBuildInfo("").Version, "a test binary has no module version")
}

// TestUpstreamRequestID checks that every call to Covage made within a
// request carries its id and counts, that a request whose builder set the
// id (SetRequestID, as the Covage client does) goes down unchanged, without
// a copy, and that any other is copied rather than modified.
func TestUpstreamRequestID(t *testing.T) {
	var got *http.Request
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	u := NewUpstream(next, nil, nil)
	var ctx context.Context
	WithRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/query", nil))
	id := RequestID(ctx)
	require.NotEmpty(t, id)

	for _, tc := range []struct {
		name   string
		setID  bool
		copied bool
	}{{"set by its builder", true, false}, {"set by the transport", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://covage.test/api/v1/referential/terminate_reason/", nil)
			require.NoError(t, err)
			if tc.setID {
				SetRequestID(ctx, req.Header)
			}
			before := FromContext(ctx).UpstreamCalls()
			resp, err := u.Transport().RoundTrip(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, id, got.Header.Get(RequestIDHeader), "Covage receives the request id")
			require.Equal(t, tc.copied, got != req, "copied")
			if tc.copied {
				require.Empty(t, req.Header.Get(RequestIDHeader), "the caller's request is not modified")
			}
			require.Equal(t, before+1, FromContext(ctx).UpstreamCalls())
		})
	}
}

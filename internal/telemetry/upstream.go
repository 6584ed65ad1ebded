package telemetry

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// referentialPath precedes the endpoint name in every data call's path.
const referentialPath = "/api/v1/referential/"

// endpoints are the label values Endpoint returns, besides "token" and
// "other"; they match covage's Endpoint constants.
var endpoints = map[string]bool{
	"project": true, "enni": true, "business_code": true, "billing_site": true,
	"terminate_reason": true, "change_reason": true, "site_connection": true,
}

// Upstream instruments the HTTP calls to Covage. Build one per upstream with
// NewUpstream and use its Transport in covage.Config.HTTPClient.
type Upstream struct {
	metrics *Metrics
	lastOK  atomic.Int64 // Unix nanoseconds of the last non-5xx answer
	rt      http.RoundTripper
}

// NewUpstream wraps next (the real transport) so that every call:
//   - counts towards its GraphQL request's upstream calls;
//   - carries the request id in X-Request-Id and the W3C trace context;
//   - is a span of tp, and a sample of the upstream metrics of m.
//
// m and tp may be nil.
func NewUpstream(next http.RoundTripper, m *Metrics, tp trace.TracerProvider) *Upstream {
	u := &Upstream{metrics: m}
	traced := next
	if Tracing(tp) {
		traced = otelhttp.NewTransport(next,
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(propagation.TraceContext{}),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return "covage " + r.Method + " " + Endpoint(r.URL.Path)
			}),
		)
	}
	u.rt = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return u.roundTrip(traced, r)
	})
	return u
}

// Transport is the instrumented transport.
func (u *Upstream) Transport() http.RoundTripper { return u.rt }

// LastSuccess is when Covage's data API last answered with a status below
// 500 (token calls do not count); zero when it never did.
func (u *Upstream) LastSuccess() time.Time {
	n := u.lastOK.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (u *Upstream) roundTrip(next http.RoundTripper, r *http.Request) (*http.Response, error) {
	if req := FromContext(r.Context()); req != nil {
		req.upstream.Add(1)
		// The Covage client sets the id itself (SetRequestID); a request
		// built elsewhere (the token calls) is copied, since a
		// RoundTripper must not modify the caller's request.
		if r.Header.Get(RequestIDHeader) != req.ID {
			r = r.Clone(r.Context())
			r.Header.Set(RequestIDHeader, req.ID)
		}
	}
	start := time.Now()
	resp, err := next.RoundTrip(r)
	status := 0
	endpoint := Endpoint(r.URL.Path)
	if err == nil {
		status = resp.StatusCode
		// The token endpoint (Keycloak) answering says nothing about the
		// data API.
		if status < 500 && endpoint != "token" {
			u.lastOK.Store(time.Now().UnixNano())
		}
	}
	u.metrics.observeUpstream(endpoint, status, time.Since(start))
	return resp, err
}

// SetRequestID puts the id of the request ctx belongs to in h, for a call
// to Covage that the caller is building (covage.Config.Headers): the
// instrumented transport then sends it as it is, where it would otherwise
// copy the request (about 3 KB) to add the id.
func SetRequestID(ctx context.Context, h http.Header) {
	if req := FromContext(ctx); req != nil {
		h.Set(RequestIDHeader, req.ID)
	}
}

// Endpoint names the Covage endpoint of a request path, for labels and span
// names: one of covage's endpoint names, "token" for anything outside the
// referential API (the OAuth2 token endpoint), or "other".
func Endpoint(path string) string {
	i := strings.Index(path, referentialPath)
	if i < 0 {
		return "token"
	}
	name, _, _ := strings.Cut(path[i+len(referentialPath):], "/")
	if endpoints[name] {
		return name
	}
	return "other"
}

// DialFunc is the shape of http.Transport.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// CountConnections wraps dial so that every connection it opens counts in
// gateway_upstream_connections_total. It wraps the TCP dial, not the TLS
// handshake, so the transport still negotiates TLS and HTTP/2 itself.
func (m *Metrics) CountConnections(dial DialFunc) DialFunc {
	if m == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			m.upstreamConns.Inc()
		}
		return c, err
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

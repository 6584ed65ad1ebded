package telemetry

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxOperations is how many distinct GraphQL operation names get their own
// label value; later ones are counted under "other", so a client sending
// random names cannot grow the metrics without bound.
const MaxOperations = 100

// Label values with a fixed meaning.
const (
	opAnonymous = "anonymous"
	opOther     = "other"
)

// Metrics holds the gateway's Prometheus metrics, registered on a private
// registry. Its methods are safe for concurrent use, and safe on a nil
// *Metrics, so optional wiring needs no checks.
type Metrics struct {
	reg *prometheus.Registry

	graphql          *prometheus.HistogramVec
	upstream         *prometheus.HistogramVec
	batch            *prometheus.HistogramVec
	drift            *prometheus.CounterVec
	cache            *prometheus.CounterVec
	retries          *prometheus.CounterVec
	breaker          *prometheus.GaugeVec
	lastUpstreamSeen prometheus.Gauge
	upstreamConns    prometheus.Counter

	mu  sync.Mutex
	ops map[string]struct{}
}

// NewMetrics registers the gateway's metrics, the Go runtime's and the
// process's on reg.
func NewMetrics(reg *prometheus.Registry, build BuildInfo) *Metrics {
	m := &Metrics{
		reg: reg,
		graphql: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_graphql_request_duration_seconds",
			Help:    "GraphQL requests by operation name and outcome (ok, partial, error).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "outcome"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_upstream_request_duration_seconds",
			Help:    "HTTP calls to Covage by endpoint and status class (2xx..5xx, or error when no response); _count is the number of calls.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint", "status"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_dataloader_batch_size",
			Help:    "Keys per dataloader batch, by loader.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 1000},
		}, []string{"loader"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_unknown_values_total",
			Help: "Distinct values Covage sent that the schema does not know (new enum labels, odd dates...), by kind.",
		}, []string{"kind"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_events_total",
			Help: "Cache lookups by endpoint and result: the shared cache (hit, miss, stale) and, as endpoint \"response\", the response cache (hit, miss).",
		}, []string{"endpoint", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upstream_retries_total",
			Help: "Upstream calls retried, by endpoint.",
		}, []string{"endpoint"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_circuit_breaker_state",
			Help: "1 for the state each upstream circuit breaker is in (closed, half-open, open), 0 for the others.",
		}, []string{"breaker", "state"}),
		lastUpstreamSeen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_upstream_last_success_timestamp_seconds",
			Help: "When Covage's data API last answered with a status below 500, in Unix seconds.",
		}),
		upstreamConns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_upstream_connections_total",
			Help: "Connections opened to Covage and its token endpoint. Under steady load its rate should be near zero: each new one is a TCP (and TLS) handshake a reused connection saves.",
		}),
		ops: map[string]struct{}{},
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gateway_build_info",
		Help:        "Always 1; the labels describe the running build.",
		ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(m.graphql, m.upstream, m.batch, m.drift, m.cache, m.retries, m.breaker, m.lastUpstreamSeen, m.upstreamConns, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Drift counts one unknown upstream value; it fits covage.Config.OnDrift.
// The value itself is not a label: it is unbounded.
func (m *Metrics) Drift(kind, _ string) {
	if m == nil {
		return
	}
	m.drift.WithLabelValues(kind).Inc()
}

// CacheEvent counts a shared-cache lookup; result is hit, miss or stale.
func (m *Metrics) CacheEvent(endpoint, result string) {
	if m == nil {
		return
	}
	m.cache.WithLabelValues(endpoint, result).Inc()
}

// Retry counts one retried upstream call.
func (m *Metrics) Retry(endpoint string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(endpoint).Inc()
}

// BreakerState records that breaker is now in state (closed, half-open or
// open).
func (m *Metrics) BreakerState(breaker, state string) {
	if m == nil {
		return
	}
	for _, s := range []string{"closed", "half-open", "open"} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.breaker.WithLabelValues(breaker, s).Set(v)
	}
}

// Batch records the size of one dataloader batch.
func (m *Metrics) Batch(loader string, keys int) {
	if m == nil {
		return
	}
	m.batch.WithLabelValues(loader).Observe(float64(keys))
}

func (m *Metrics) observeUpstream(endpoint string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(endpoint, statusClass(status)).Observe(elapsed.Seconds())
	if status > 0 && status < 500 && endpoint != "token" {
		m.lastUpstreamSeen.Set(float64(time.Now().UnixNano()) / 1e9)
	}
}

func (m *Metrics) observeGraphQL(operation, outcome string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.graphql.WithLabelValues(operation, outcome).Observe(elapsed.Seconds())
}

// operationLabel maps an operation name to its label value: the name itself
// for the first MaxOperations names seen, "other" afterwards.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return opAnonymous
	}
	if m == nil || len(name) > 100 {
		return opOther
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ops[name]; ok {
		return name
	}
	if len(m.ops) >= MaxOperations {
		return opOther
	}
	m.ops[name] = struct{}{}
	return name
}

// statusClass is "2xx".."5xx", or "error" when there was no response.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

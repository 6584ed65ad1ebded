package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/covage/gateway/internal/playground"
	"github.com/covage/gateway/internal/telemetry"
)

// withTelemetry fills the telemetry options' defaults: a private metrics
// registry, a no-op tracer and always-ready readiness, so New works with
// none of them set. Dataloader batches are measured and traced unless the
// caller set its own hook.
func (o Options) withTelemetry() Options {
	if o.Build.Version == "" {
		o.Build = telemetry.ReadBuildInfo("")
	}
	if o.Metrics == nil {
		o.Metrics = telemetry.NewMetrics(prometheus.NewRegistry(), o.Build)
	}
	if o.Loaders.OnBatch == nil {
		o.Loaders.OnBatch = telemetry.BatchHook(o.Metrics, o.Tracer)
	}
	o.observer = telemetry.NewGraphQL(o.Metrics, o.Tracer, o.Logger)
	return o
}

// observe logs, measures and traces each GraphQL request.
func (o Options) observe(next http.Handler) http.Handler { return o.observer.Middleware(next) }

// mountProbes serves /healthz and /readyz, which the orchestrator may
// probe on either port.
func mountProbes(mux *http.ServeMux, o Options) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	ready := o.Ready
	if ready == nil {
		ready = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ready","checks":{}}` + "\n"))
		})
	}
	mux.Handle("GET /readyz", ready)
}

// mountOperations serves /metrics, and /debug/pprof when Pprof is set.
func mountOperations(mux *http.ServeMux, o Options) {
	mux.Handle("GET /metrics", o.Metrics.Handler())
	if o.Pprof {
		mountPprof(mux)
	}
}

// mountPlayground serves the Playground and its assets from the binary,
// compressed by compress.
func mountPlayground(mux *http.ServeMux, compress func(http.Handler) http.HandlerFunc) {
	page, assets, err := playground.New("Covage GraphQL", "/query")
	if err != nil {
		// The assets are embedded at build time: this is a build defect.
		panic(err)
	}
	mux.Handle("GET /{$}", compress(page))
	mux.Handle("GET "+playground.AssetPath, compress(assets))
}

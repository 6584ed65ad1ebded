// Package gateway assembles the HTTP handler: the GraphQL server with its
// transports, caches and error handling, the per-request loaders, the
// Playground and the health endpoint.
package gateway

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/telemetry"
)

// Options configure the handler.
type Options struct {
	// Upstream is Covage, or a layer in front of it.
	Upstream loaders.Upstream
	// Loaders tunes per-request batching.
	Loaders loaders.Config
	// QueryCacheSize is how many parsed and validated queries are kept.
	QueryCacheSize int
	// Logger receives errors the clients only see as codes.
	Logger *slog.Logger
	// Security holds the limits and production switches; its zero value is
	// development mode with default limits.
	Security Security
	// Pprof serves net/http/pprof under /debug/pprof/ (pprof.go).
	Pprof bool
	// ResponseCache keeps whole answers (respcache.go). It needs the shared
	// cache: it is on only when Upstream is a *cache.Cache.
	ResponseCache ResponseCache
	// PassThrough forwards each caller's Authorization bearer token to
	// Covage instead of the upstream client's own credential; a request
	// without one gets UNAUTHENTICATED (HTTP 401) before any upstream call.
	PassThrough bool

	// Metrics receives the gateway's metrics and serves /metrics; a private
	// registry when nil (observe.go).
	Metrics *telemetry.Metrics
	// Tracer traces operations, batches and upstream calls; none when nil.
	Tracer trace.TracerProvider
	// Ready answers /readyz; always ready when nil.
	Ready http.Handler
	// Build is served at /version; read from the binary when zero.
	Build telemetry.BuildInfo

	observer *telemetry.GraphQL
}

// New returns the gateway's HTTP handler:
//
//	/query    GraphQL over HTTP (GET and POST)
//	/         the GraphiQL Playground
//	/healthz  liveness
func New(opts Options) http.Handler {
	if opts.QueryCacheSize <= 0 {
		opts.QueryCacheSize = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Security = opts.Security.withDefaults()
	opts = opts.withTelemetry()
	mux := http.NewServeMux()
	query := collectStale(loaders.Middleware(opts.Upstream, opts.Loaders, newGraphQL(opts)))
	if opts.PassThrough {
		query = passThrough(query)
	}
	mux.Handle("/query", opts.observe(guardHTTP(opts.Security, query)))
	if !opts.Security.DisablePlayground {
		mountPlayground(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mountOperations(mux, opts)
	if opts.Pprof {
		mountPprof(mux)
	}
	return telemetry.WithRequestID(mux)
}

// newGraphQL builds the GraphQL server by hand rather than with
// handler.NewDefaultServer, which gqlgen marks as not for production: only
// the transports we serve, a bounded query cache, and our error handling.
func newGraphQL(opts Options) *handler.Server {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}))
	parsed := lru.New[*ast.QueryDocument](opts.QueryCacheSize)
	sizes := listSizes(opts.Upstream)
	secureServer(srv, opts.Security, parsed, sizes)
	srv.SetQueryCache(parsed)
	srv.SetErrorPresenter(graph.NewErrorPresenter(opts.Logger))
	srv.SetRecoverFunc(graph.NewRecoverFunc(opts.Logger))
	// FastLists writes lists of plain leaf fields straight to JSON
	// (graph/fastlist.go); everything else goes through gqlgen as before.
	srv.AroundFields(graph.FastLists)
	// The response budget stops an answer growing past MAX_RESPONSE_BYTES
	// while it is built (graph/budget.go). Its field middleware runs
	// inside FastLists, so it sees the lists themselves.
	budget := graph.ResponseBudget{Max: int64(opts.Security.Limits.MaxResponseBytes), Sizes: sizes, ListSize: opts.Security.Limits.ListSize}
	srv.AroundFields(budget.Fields)
	srv.AroundResponses(staleExtension)
	srv.Use(opts.observer.Extension())
	// Innermost, so that telemetry and the stale extension see its hits.
	if shared, ok := opts.Upstream.(*cache.Cache); ok && opts.ResponseCache.MaxBytes > 0 {
		srv.Use(newResponseCache(opts.ResponseCache, shared.CredentialID))
	}
	// Inside the response cache, which then never keeps a stopped answer.
	srv.AroundResponses(budget.Responses)
	return srv
}

// Package gateway assembles the HTTP handler: the GraphQL server with its
// transports, caches and error handling, the per-request loaders, the
// Playground and the health endpoint.
package gateway

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/connection"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/plan"
	"github.com/covage/gateway/internal/stack"
	"github.com/covage/gateway/internal/telemetry"
)

// Options configure the handler.
type Options struct {
	// Upstream is Covage, or a layer in front of it.
	Upstream loaders.Upstream
	// Loaders tunes per-request batching.
	Loaders loaders.Config
	// QueryCacheSize is how many parsed and validated queries are kept;
	// DefaultQueryCacheSize when zero.
	QueryCacheSize int
	// Logger receives errors the clients only see as codes.
	Logger *slog.Logger
	// Security holds the limits and production switches; its zero value is
	// development mode with default limits.
	Security Security
	// Pprof serves net/http/pprof under /debug/pprof/ (pprof.go).
	Pprof bool
	// HideOperations keeps /metrics and /debug/pprof off the handler New
	// returns: they are served by Admin on the admin port, or, in
	// production without one, not at all. /healthz and /readyz stay.
	HideOperations bool
	// ResponseCache keeps whole answers (respcache.go). It needs the shared
	// cache: it is on only when Upstream is a *cache.Cache.
	ResponseCache ResponseCache
	// StreamMinBytes streams a list the fast path expects to take at least
	// this many bytes, from the size the same selection took last time:
	// it is written straight to the client rather than held whole
	// (internal/plan/streams.go). While the response cache is on, an answer
	// it could keep (an eighth of its size) is never streamed. 0 streams
	// nothing.
	StreamMinBytes int64
	// PassThrough forwards each caller's Authorization bearer token to
	// Covage instead of the upstream client's own credential; a request
	// without one gets UNAUTHENTICATED (HTTP 401) before any upstream call.
	PassThrough bool
	// VerifyBearer, in pass-through mode, asks Covage with one uncached
	// call whether the token in ctx is accepted (covage.Client.VerifyBearer).
	// Each token is then re-verified at least every minute before cached
	// data is served to it, and a refused one is refused at once for 30 s.
	// Nil leaves every check to the upstream calls themselves.
	VerifyBearer func(ctx context.Context) error
	// CallerSpecific says that answers depend on the caller (caller
	// authentication): HTTP caches are told to keep them private and to
	// vary on Authorization. PassThrough implies it.
	CallerSpecific bool

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
		opts.QueryCacheSize = DefaultQueryCacheSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Security = opts.Security.withDefaults()
	opts = opts.withTelemetry()
	mux := http.NewServeMux()
	query := collectStale(loaders.Middleware(opts.Upstream, opts.Loaders, newGraphQL(opts)))
	if opts.PassThrough {
		var verifier *bearerVerifier
		if opts.VerifyBearer != nil {
			var forget func(context.Context)
			if shared, ok := opts.Upstream.(*cache.Cache); ok {
				forget = shared.ForgetCredential
			}
			verifier = newBearerVerifier(opts.VerifyBearer, forget, nil)
		}
		query = passThrough(verifier, query)
	}
	// Compression is outermost, so that every answer, refusals included,
	// is compressed and varies on Accept-Encoding (compress.go,
	// httpcaching.go).
	comp := newCompression()
	mux.Handle("/query", deliverQuery(opts.PassThrough || opts.CallerSpecific, opts.streamMin(), comp, opts.observe(guardHTTP(opts.Security, opts.Logger, query))))
	if !opts.Security.DisablePlayground {
		mountPlayground(mux, comp.plain)
	}
	mountProbes(mux, opts)
	mux.Handle("GET /version", opts.Build.Handler())
	if !opts.HideOperations {
		mountOperations(mux, opts)
	}
	return telemetry.WithRequestID(mux)
}

// Admin returns the admin port's handler (ADMIN_PORT), for operators and
// scrapers only:
//
//	/metrics       Prometheus metrics
//	/debug/pprof/  runtime profiles, when Options.Pprof is set
//	/healthz       liveness
//	/readyz        readiness
//	/version       build information
func Admin(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts = opts.withTelemetry()
	mux := http.NewServeMux()
	mountProbes(mux, opts)
	mux.Handle("GET /version", opts.Build.Handler())
	mountOperations(mux, opts)
	return mux
}

// newGraphQL builds the GraphQL server by hand rather than with
// handler.NewDefaultServer, which gqlgen marks as not for production: only
// the transports we serve, a bounded query cache, and our error handling.
func newGraphQL(opts Options) *handler.Server {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{Indexes: connection.NewIndexes(0)}}))
	parsed := lru.New[*ast.QueryDocument](opts.QueryCacheSize)
	sizes := listSizes(opts.Upstream)
	secureServer(srv, opts.Security, parsed, sizes)
	srv.SetQueryCache(parsed)
	srv.SetErrorPresenter(graph.NewErrorPresenter(opts.Logger))
	srv.SetRecoverFunc(graph.NewRecoverFunc(opts.Logger))
	// gqlgen runs each root field but the first on a goroutine of its own,
	// which goes deep (internal/stack explains why it grows at once).
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		stack.Reserve()
		return next(ctx)
	})
	// FastLists writes lists of plain leaf fields straight to JSON
	// (internal/plan/fastlist.go); everything else goes through gqlgen as
	// before. Its memo of collected selections lives as long as srv.
	srv.AroundFields(plan.New().FastLists)
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

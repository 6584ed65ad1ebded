// Package gateway assembles the HTTP handler: the GraphQL server with its
// transports, caches and error handling, the per-request loaders, the
// Playground and the health endpoint.
package gateway

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/loaders"
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
	mux := http.NewServeMux()
	mux.Handle("/query", loaders.Middleware(opts.Upstream, opts.Loaders, newGraphQL(opts)))
	mux.Handle("GET /{$}", playground.Handler("Covage GraphQL", "/query"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	return mux
}

// newGraphQL builds the GraphQL server by hand rather than with
// handler.NewDefaultServer, which gqlgen marks as not for production: only
// the transports we serve, a bounded query cache, and our error handling.
func newGraphQL(opts Options) *handler.Server {
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](opts.QueryCacheSize))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.SetErrorPresenter(graph.NewErrorPresenter(opts.Logger))
	srv.SetRecoverFunc(graph.NewRecoverFunc(opts.Logger))
	return srv
}

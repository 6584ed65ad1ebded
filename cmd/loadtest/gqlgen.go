package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/connection"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/gcheadroom"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/loadtest"
	"github.com/covage/gateway/internal/plan"
)

// serveGQLGen serves the gateway's executor with nothing around it on addr
// until ctx ends: gqlgen's handler over the gateway's schema, resolvers,
// per-request loaders, fast list writer (internal/plan) and Covage client,
// built from the gateway's settings in the environment like the floor.
// What the gateway adds around it is absent: the HTTP guards, the cost and
// response-budget checks, telemetry, the caches, compression, the
// response extensions and the gateway's own transport and delivery. The
// garbage collector's headroom is the gateway's. Its CPU per request, next to the floor's and the
// gateway's, is how much of a cold request gqlgen and the resolvers cost
// and how much the rest of the gateway does.
func serveGQLGen(ctx context.Context, addr string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Demo() {
		return errors.New("-serve-gqlgen needs COVAGE_API_URL, the upstream the gateway under test calls")
	}
	if cfg.APIToken == "" {
		return errors.New("-serve-gqlgen needs COVAGE_API_TOKEN: it sends a static token, as the cold table's gateway does")
	}
	// The collector runs as in the gateway (server.go), so that the two
	// differ in what they run per request, not in how often they collect.
	if os.Getenv("GOGC") == "" {
		defer gcheadroom.Start(uint64(cfg.Perf.GCHeadroomMB) << 20)()
	}
	h, closeIdle, err := gqlgenCore(cfg)
	if err != nil {
		return err
	}
	defer closeIdle()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return loadtest.Serve(ctx, ln, h)
}

// gqlgenCore is serveGQLGen's handler, and a function that closes its idle
// upstream connections.
func gqlgenCore(cfg config.Config) (http.Handler, func(), error) {
	up, res := cfg.Upstream, cfg.Resilience
	rt := covage.NewTransport(covage.Pool{MaxConnsPerHost: up.MaxConnsPerHost, IdleConnTimeout: up.IdleConnTimeout, RootCAs: up.RootCAs}, nil)
	client, err := covage.New(covage.Config{
		BaseURL: cfg.CovageURL, Timeout: cfg.Timeout, Auth: covage.StaticToken(covage.Secret(cfg.APIToken.Reveal())),
		HTTPClient:  &http.Client{Transport: rt},
		MaxAttempts: res.RetryMaxAttempts, MaxRetryAfter: res.RetryAfterMax,
		BreakerFailures: res.BreakerFailures, BreakerCooldown: res.BreakerCooldown,
	})
	if err != nil {
		return nil, nil, err
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{Indexes: connection.NewIndexes(0)}}))
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](cfg.QueryCacheSize))
	srv.AroundFields(plan.New().FastLists)
	lc := loaders.Config{
		Wait: cfg.LoaderWait, MaxBatch: cfg.LoaderMaxBatch, BillingSitePool: cfg.BillingSiteConcurrency,
		IsNotFound: func(err error) bool { return errors.Is(err, covage.ErrNotFound) },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.Handle("POST /query", loaders.Middleware(client, lc, srv))
	return mux, rt.CloseIdleConnections, nil
}

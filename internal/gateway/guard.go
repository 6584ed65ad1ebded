package gateway

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/auth"
)

// Security is what keeps the gateway safe on the internet. Its zero value is
// development mode with every limit at its default: introspection,
// suggestions and the Playground on, no CORS, no rate limit, APQ on.
type Security struct {
	// Limits bound each operation (depth, aliases, root fields, tokens, cost).
	Limits Limits
	// MaxBodyBytes bounds a request body; larger gets 413. Default 1 MiB.
	MaxBodyBytes int64
	// RequestTimeout bounds each /query request, upstream calls included.
	// Default 30s.
	RequestTimeout time.Duration
	// CORSAllowedOrigins are the browser origins allowed to call /query;
	// none by default.
	CORSAllowedOrigins []string
	// APQCacheSize bounds the automatic persisted queries kept. Default 100.
	APQCacheSize int
	// Manifest, when set, serves its operations by id.
	Manifest *Manifest
	// PersistedOnly runs nothing but the Manifest's operations, and turns
	// APQ off, which would let clients register new ones.
	PersistedOnly bool
	// DisableIntrospection, DisableSuggestions and DisablePlayground are
	// production mode's switches.
	DisableIntrospection bool
	DisableSuggestions   bool
	DisablePlayground    bool
	// RateLimit is the per-client rate limit, off when RPS is 0.
	RateLimit RateLimit
	// Authenticator, when set, authenticates every /query request: a
	// refused credential gets 401 (or 403) before any upstream call, and the
	// rate limit keys on the caller it names.
	Authenticator *auth.Authenticator
	// TrustedProxies are the peers whose X-Forwarded-For or Forwarded
	// header names the client (clientip.go); none by default, so the
	// client is the connection's peer.
	TrustedProxies []netip.Prefix
	// GlobalRateLimit, when set, applies RateLimit across every replica
	// (ratelimit_redis.go); the local limiter stands in when it cannot
	// decide.
	GlobalRateLimit Limiter
	// APQCache, when set, stores automatic persisted queries instead of a
	// local LRU of APQCacheSize (shared.APQ shares them across replicas).
	APQCache graphql.Cache[string]
}

// Defaults of Security's zero fields, which are also the defaults of their
// settings (internal/config).
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRequestTimeout = 30 * time.Second
	DefaultAPQCacheSize   = 100
	// DefaultQueryCacheSize is Options.QueryCacheSize's.
	DefaultQueryCacheSize = 1000
)

func (s Security) withDefaults() Security {
	s.Limits = s.Limits.withDefaults()
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.RequestTimeout <= 0 {
		s.RequestTimeout = DefaultRequestTimeout
	}
	if s.APQCacheSize <= 0 {
		s.APQCacheSize = DefaultAPQCacheSize
	}
	return s
}

// secureServer sets up the GraphQL server's transports and the extensions
// that run before execution, in order: persisted queries resolve the query
// text, then the limits check it, then gqlgen parses and validates it, then
// the cost limit runs. parsed is gqlgen's query cache: a query found there
// has passed the shape limits already.
func secureServer(srv *handler.Server, s Security, parsed graphql.Cache[*ast.QueryDocument], sizes graph.ListSizes) {
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(httpTransport{maxTokens: s.Limits.MaxTokens})
	srv.SetParserTokenLimit(s.Limits.MaxTokens)
	srv.SetDisableSuggestion(s.DisableSuggestions)
	if !s.DisableIntrospection {
		srv.Use(extension.Introspection{})
	} else {
		// A federation router still needs the subgraph's SDL (federation.go).
		srv.Use(serviceSDL{})
	}
	if s.Manifest != nil || s.PersistedOnly {
		srv.Use(newSafelist(s.Manifest, s.PersistedOnly))
	}
	if !s.PersistedOnly {
		apq := s.APQCache
		if apq == nil {
			apq = lru.New[string](s.APQCacheSize)
		}
		srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	}
	srv.Use(operationLimits{l: s.Limits, noIntrospection: s.DisableIntrospection, parsed: parsed, sizes: sizes})
}

// guardHTTP wraps /query, outermost first: CORS (so that every answer,
// refusals included, carries the headers a browser needs to read it), the
// request deadline, caller authentication (which only records who the
// caller is), the rate limit keyed on that caller or on the client address
// (so refused credentials are rate limited too), the refusal of a bad
// credential, CSRF prevention, and the body limit.
func guardHTTP(s Security, log *slog.Logger, next http.Handler) http.Handler {
	h := limitBody(s.MaxBodyBytes, next)
	h = preventCSRF(h)
	if s.Authenticator != nil {
		h = enforceAuth(h)
	}
	if s.RateLimit.RPS > 0 {
		rl := s.RateLimit
		if s.GlobalRateLimit != nil {
			rl.Limiter = withFallback(s.GlobalRateLimit, rl)
		}
		h = newRateLimiter(rl, clientAddress{trusted: s.TrustedProxies}, log).middleware(h)
	}
	if s.Authenticator != nil {
		h = s.Authenticator.Middleware(h)
	}
	h = withDeadline(s.RequestTimeout, h)
	return withCORS(s.CORSAllowedOrigins, h)
}

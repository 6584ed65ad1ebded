package gateway

import (
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
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
	// GlobalRateLimit, when set, applies RateLimit across every replica
	// (ratelimit_redis.go); the local limiter stands in when it cannot
	// decide.
	GlobalRateLimit GlobalRateLimiter
	// APQCache, when set, stores automatic persisted queries instead of a
	// local LRU of APQCacheSize (shared.APQ shares them across replicas).
	APQCache graphql.Cache[string]
}

// Defaults of Security's zero fields.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultRequestTimeout = 30 * time.Second
	DefaultAPQCacheSize   = 100
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
func secureServer(srv *handler.Server, s Security, parsed graphql.Cache[*ast.QueryDocument]) {
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions}})
	srv.AddTransport(httpTransport{maxTokens: s.Limits.MaxTokens})
	srv.SetParserTokenLimit(s.Limits.MaxTokens)
	srv.SetDisableSuggestion(s.DisableSuggestions)
	if !s.DisableIntrospection {
		srv.Use(extension.Introspection{})
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
	srv.Use(operationLimits{l: s.Limits, noIntrospection: s.DisableIntrospection, parsed: parsed})
}

// guardHTTP wraps /query, outermost first: CORS (so that every answer,
// refusals included, carries the headers a browser needs to read it), the
// request deadline, the rate limit (before any work), CSRF prevention, and
// the body limit.
func guardHTTP(s Security, next http.Handler) http.Handler {
	h := limitBody(s.MaxBodyBytes, next)
	h = preventCSRF(h)
	if s.RateLimit.RPS > 0 {
		local := newRateLimiter(s.RateLimit).middleware(h)
		if s.GlobalRateLimit != nil {
			h = globalRateLimit(s.GlobalRateLimit, s.RateLimit, h, local)
		} else {
			h = local
		}
	}
	h = withDeadline(s.RequestTimeout, h)
	return withCORS(s.CORSAllowedOrigins, h)
}

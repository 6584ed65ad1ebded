package config

import (
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/covage/gateway/internal/gateway"
)

// Environments GATEWAY_ENV accepts.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Security is what keeps the gateway safe on the internet: limits, browser
// protections and production mode. Production turns introspection, "did
// you mean" suggestions and the Playground off, and the rate limit on,
// unless a setting says otherwise.
type Security struct {
	// Env is development or production (GATEWAY_ENV).
	Env string
	// Introspection, Suggestions and Playground default to on in
	// development and off in production (GRAPHQL_INTROSPECTION,
	// GRAPHQL_SUGGESTIONS, PLAYGROUND).
	Introspection bool
	Suggestions   bool
	Playground    bool

	// Operation limits (MAX_DEPTH, MAX_ALIASES, MAX_ROOT_FIELDS,
	// MAX_TOKENS, MAX_COST, COST_LIST_SIZE, MAX_STRING_LENGTH).
	MaxDepth, MaxAliases, MaxRootFields, MaxTokens, MaxCost, CostListSize, MaxStringLength int
	// MaxListArgument bounds the elements of a list argument
	// (MAX_LIST_ARGUMENT); MaxEntityRepresentations bounds those of
	// Federation's _entities(representations:) instead
	// (MAX_ENTITY_REPRESENTATIONS).
	MaxListArgument, MaxEntityRepresentations int
	// MaxResponseBytes bounds an answer's data (MAX_RESPONSE_BYTES).
	MaxResponseBytes int

	// MaxBodyBytes bounds a request body (MAX_BODY_BYTES).
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request headers (MAX_HEADER_BYTES).
	MaxHeaderBytes int
	// RequestTimeout bounds a GraphQL request (REQUEST_TIMEOUT).
	RequestTimeout time.Duration
	// The http.Server's timeouts (READ_HEADER_TIMEOUT, READ_TIMEOUT,
	// WRITE_TIMEOUT, IDLE_TIMEOUT).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	// CORSAllowedOrigins is the comma-separated origin allowlist
	// (CORS_ALLOWED_ORIGINS).
	CORSAllowedOrigins []string

	// APQCacheSize bounds the automatic persisted queries kept
	// (APQ_CACHE_SIZE).
	APQCacheSize int
	// PersistedQueriesManifest is the path of an Apollo persisted-query
	// manifest (PERSISTED_QUERIES_MANIFEST).
	PersistedQueriesManifest string
	// PersistedQueriesOnly runs the manifest's operations only
	// (PERSISTED_QUERIES_ONLY).
	PersistedQueriesOnly bool

	// RateLimitRPS is each client's sustained rate, 0 for off; it defaults
	// to 0 in development and 10 in production (RATE_LIMIT_RPS).
	RateLimitRPS float64
	// RateLimitBurst is each client's burst (RATE_LIMIT_BURST).
	RateLimitBurst int
	// RateLimitClients bounds the clients tracked (RATE_LIMIT_CLIENTS).
	RateLimitClients int
}

// Production reports whether the gateway runs in production mode.
func (s Security) Production() bool { return s.Env == EnvProduction }

func (p *parser) security() Security {
	s := Security{Env: strings.ToLower(p.str("GATEWAY_ENV", EnvDevelopment))}
	if s.Env != EnvDevelopment && s.Env != EnvProduction {
		p.fail("GATEWAY_ENV=%q: want development or production", s.Env)
	}
	dev := !s.Production()
	s.Introspection = p.bool("GRAPHQL_INTROSPECTION", dev)
	s.Suggestions = p.bool("GRAPHQL_SUGGESTIONS", dev)
	s.Playground = p.bool("PLAYGROUND", dev)

	// The defaults are the gateway package's, defined there once.
	d := gateway.DefaultLimits()
	s.MaxDepth = p.int("MAX_DEPTH", d.MaxDepth, 1, 1000)
	s.MaxAliases = p.int("MAX_ALIASES", d.MaxAliases, 1, 100000)
	s.MaxRootFields = p.int("MAX_ROOT_FIELDS", d.MaxRootFields, 1, 100000)
	s.MaxTokens = p.int("MAX_TOKENS", d.MaxTokens, 100, 10000000)
	s.MaxCost = p.int("MAX_COST", d.MaxCost, 1, 1<<30)
	s.CostListSize = p.int("COST_LIST_SIZE", d.ListSize, 1, 100000)
	s.MaxStringLength = p.int("MAX_STRING_LENGTH", d.MaxStringLength, 16, 1<<30)
	s.MaxListArgument = p.int("MAX_LIST_ARGUMENT", d.MaxListArgument, 1, 1<<20)
	s.MaxEntityRepresentations = p.int("MAX_ENTITY_REPRESENTATIONS", d.MaxEntityRepresentations, 1, 1<<20)
	s.MaxResponseBytes = p.int("MAX_RESPONSE_BYTES", d.MaxResponseBytes, 1024, 1<<40)

	s.MaxBodyBytes = int64(p.int("MAX_BODY_BYTES", gateway.DefaultMaxBodyBytes, 1024, 1<<30))
	s.MaxHeaderBytes = p.int("MAX_HEADER_BYTES", 64<<10, 4<<10, 16<<20)
	s.RequestTimeout = p.duration("REQUEST_TIMEOUT", gateway.DefaultRequestTimeout)
	s.ReadHeaderTimeout = p.duration("READ_HEADER_TIMEOUT", 10*time.Second)
	s.ReadTimeout = p.duration("READ_TIMEOUT", 30*time.Second)
	s.WriteTimeout = p.duration("WRITE_TIMEOUT", 60*time.Second)
	s.IdleTimeout = p.duration("IDLE_TIMEOUT", 120*time.Second)
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"REQUEST_TIMEOUT", s.RequestTimeout}, {"READ_HEADER_TIMEOUT", s.ReadHeaderTimeout},
		{"READ_TIMEOUT", s.ReadTimeout}, {"WRITE_TIMEOUT", s.WriteTimeout}, {"IDLE_TIMEOUT", s.IdleTimeout},
	} {
		if t.d <= 0 {
			p.fail("%s must be positive", t.name)
		}
	}
	if s.WriteTimeout <= s.RequestTimeout {
		p.fail("WRITE_TIMEOUT (%s) must be longer than REQUEST_TIMEOUT (%s), or slow answers are cut off unsent", s.WriteTimeout, s.RequestTimeout)
	}

	for o := range strings.SplitSeq(p.getenv("CORS_ALLOWED_ORIGINS"), ",") {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		if u, err := url.Parse(o); o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			p.fail("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com (no wildcard)", o)
			continue
		}
		s.CORSAllowedOrigins = append(s.CORSAllowedOrigins, o)
	}

	s.APQCacheSize = p.int("APQ_CACHE_SIZE", gateway.DefaultAPQCacheSize, 1, 1<<20)
	s.PersistedQueriesManifest = strings.TrimSpace(p.getenv("PERSISTED_QUERIES_MANIFEST"))
	s.PersistedQueriesOnly = p.bool("PERSISTED_QUERIES_ONLY", false)
	if s.PersistedQueriesManifest != "" {
		if _, err := os.Stat(s.PersistedQueriesManifest); err != nil {
			p.fail("PERSISTED_QUERIES_MANIFEST: %v", err)
		}
	} else if s.PersistedQueriesOnly {
		p.fail("PERSISTED_QUERIES_ONLY=true needs PERSISTED_QUERIES_MANIFEST")
	}

	defRPS := 0.0
	if s.Production() {
		defRPS = 10
	}
	s.RateLimitRPS = p.float("RATE_LIMIT_RPS", defRPS, 0, 1e6)
	s.RateLimitBurst = p.int("RATE_LIMIT_BURST", 20, 1, 1<<20)
	s.RateLimitClients = p.int("RATE_LIMIT_CLIENTS", 10000, 1, 1<<24)
	return s
}

func (p *parser) bool(name string, def bool) bool {
	p.def(name, def)
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail("%s=%q: want true or false", name, v)
		return def
	}
	return b
}

func (p *parser) float(name string, def, lo, hi float64) float64 {
	p.def(name, def)
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		p.fail("%s=%q: want a number from %g to %g", name, v, lo, hi)
		return def
	}
	return f
}

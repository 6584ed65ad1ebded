package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
)

// Credential modes (COVAGE_CREDENTIALS).
const (
	// CredentialsService calls Covage with the gateway's own account: the
	// OAuth2 password grant or COVAGE_API_TOKEN.
	CredentialsService = "service"
	// CredentialsPassThrough forwards each caller's Authorization bearer
	// token and uses no configured credential.
	CredentialsPassThrough = "passthrough"
)

// Resilience holds the shared cache, retry, circuit breaker and credential
// mode settings.
type Resilience struct {
	// CacheTTL is how long an upstream answer stays fresh in the shared
	// cache (COVAGE_CACHE_TTL, default 5m); 0 turns the shared cache off.
	CacheTTL time.Duration
	// EndpointTTL overrides CacheTTL per endpoint name
	// (COVAGE_CACHE_TTL_PROJECT, _ENNI, _BUSINESS_CODE, _BILLING_SITE,
	// _TERMINATE_REASON, _CHANGE_REASON, _SITE_CONNECTION); 0 turns
	// caching off for that endpoint.
	EndpointTTL map[string]time.Duration
	// StaleTTL is how long after expiry a cached answer may stand in for a
	// failing Covage (COVAGE_STALE_TTL, default 24h); 0 never serves stale
	// data.
	StaleTTL time.Duration
	// CacheMaxEntries bounds the shared cache (COVAGE_CACHE_MAX_ENTRIES,
	// default 10000).
	CacheMaxEntries int
	// ResponseCacheMB bounds the response cache, which keeps whole answers
	// while the shared-cache entries they were built from stay fresh
	// (RESPONSE_CACHE_MB, default 32); 0 turns it off. It needs the shared
	// cache: with COVAGE_CACHE_TTL=0 it is off too.
	ResponseCacheMB int
	// RetryMaxAttempts is how many times a failing GET is tried
	// (COVAGE_RETRY_MAX_ATTEMPTS, default 3; 1 never retries).
	RetryMaxAttempts int
	// RetryAfterMax is the longest Retry-After waited for
	// (COVAGE_RETRY_AFTER_MAX, default 5s).
	RetryAfterMax time.Duration
	// BreakerFailures opens an endpoint's circuit breaker after that many
	// consecutive failures (COVAGE_BREAKER_FAILURES, default 5; 0 turns the
	// breakers off).
	BreakerFailures int
	// BreakerCooldown is how long a breaker stays open before a probe
	// (COVAGE_BREAKER_COOLDOWN, default 30s).
	BreakerCooldown time.Duration
	// Credentials is CredentialsService or CredentialsPassThrough
	// (COVAGE_CREDENTIALS, default service).
	Credentials string
}

// PassThrough reports whether callers' own tokens are forwarded.
func (r Resilience) PassThrough() bool { return r.Credentials == CredentialsPassThrough }

// endpointTTLVars maps each endpoint to the suffix of its TTL variable.
var endpointTTLVars = map[string]string{
	covage.EndpointProject:         "PROJECT",
	covage.EndpointEnni:            "ENNI",
	covage.EndpointBusiness:        "BUSINESS_CODE",
	covage.EndpointBillingSite:     "BILLING_SITE",
	covage.EndpointTerminateReason: "TERMINATE_REASON",
	covage.EndpointChangeReason:    "CHANGE_REASON",
	covage.EndpointSiteConnection:  "SITE_CONNECTION",
}

// resilience reads the settings; c is the rest of the configuration, for
// the checks that span both.
func (p *parser) resilience(c Config) Resilience {
	r := Resilience{
		CacheTTL:         p.duration("COVAGE_CACHE_TTL", cache.DefaultTTL),
		EndpointTTL:      map[string]time.Duration{},
		StaleTTL:         p.duration("COVAGE_STALE_TTL", cache.DefaultStaleTTL),
		CacheMaxEntries:  p.int("COVAGE_CACHE_MAX_ENTRIES", cache.DefaultMaxEntries, 1, 10_000_000),
		ResponseCacheMB:  p.int("RESPONSE_CACHE_MB", 32, 0, 64<<10),
		RetryMaxAttempts: p.int("COVAGE_RETRY_MAX_ATTEMPTS", 3, 1, 10),
		RetryAfterMax:    p.duration("COVAGE_RETRY_AFTER_MAX", covage.DefaultMaxRetryAfter),
		BreakerFailures:  p.int("COVAGE_BREAKER_FAILURES", 5, 0, 1000),
		BreakerCooldown:  p.duration("COVAGE_BREAKER_COOLDOWN", covage.DefaultBreakerCooldown),
		Credentials:      strings.ToLower(p.str("COVAGE_CREDENTIALS", CredentialsService)),
	}
	// Sorted, so that Settings lists them in a stable order.
	for _, ep := range slices.Sorted(maps.Keys(endpointTTLVars)) {
		r.EndpointTTL[ep] = p.duration("COVAGE_CACHE_TTL_"+endpointTTLVars[ep], r.CacheTTL)
	}
	if r.BreakerCooldown <= 0 {
		p.fail("COVAGE_BREAKER_COOLDOWN must be positive")
	}
	if r.RetryAfterMax <= 0 {
		p.fail("COVAGE_RETRY_AFTER_MAX must be positive")
	}
	switch r.Credentials {
	case CredentialsService:
	case CredentialsPassThrough:
		if c.TokenURL != "" || c.Username != "" || c.Password != "" || c.APIToken != "" {
			p.fail("COVAGE_CREDENTIALS=passthrough forwards each caller's token and uses no configured credential: unset COVAGE_API_TOKEN and the OAuth2 settings")
		}
	default:
		p.fail("COVAGE_CREDENTIALS=%q: want service or passthrough", r.Credentials)
	}
	return r
}

package main

import (
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/telemetry"
)

// resilient adds the retry and circuit breaker settings to the client's
// configuration and, in pass-through mode, drops any configured credential:
// each caller's own token is the only one sent.
func resilient(cfg config.Config, cc covage.Config) covage.Config {
	r := cfg.Resilience
	cc.MaxAttempts = r.RetryMaxAttempts
	cc.MaxRetryAfter = r.RetryAfterMax
	cc.BreakerFailures = r.BreakerFailures
	cc.BreakerCooldown = r.BreakerCooldown
	if r.PassThrough() {
		cc.Auth = nil
	}
	if log := cc.Logger; log != nil && cc.OnBreakerChange == nil {
		cc.OnBreakerChange = func(endpoint, from, to string) {
			log.Warn("covage circuit breaker", "endpoint", endpoint, "from", from, "to", to)
		}
	}
	return cc
}

// sharedCache wraps the client in the cache shared across requests, unless
// every endpoint's TTL is 0. Its hits, misses and stale answers are counted
// in m's gateway_cache_events_total. l2 is its second level in Redis, if
// any.
func sharedCache(cfg config.Config, client *covage.Client, m *telemetry.Metrics, l2 cache.SharedConfig) (loaders.Upstream, error) {
	r := cfg.Resilience
	on := false
	for _, ttl := range r.EndpointTTL {
		on = on || ttl > 0
	}
	if !on {
		return client, nil
	}
	stale := r.StaleTTL
	if stale == 0 {
		stale = -1 // the cache's "never"
	}
	// A shared call runs detached from its callers; give it room for every
	// attempt and the waits between them.
	attempts := max(r.RetryMaxAttempts, 1)
	callTimeout := cfg.Timeout*time.Duration(attempts) + time.Duration(attempts-1)*max(r.RetryAfterMax, covage.DefaultRetryMaxDelay)
	return cache.New(client, cache.Config{
		TTL:         r.EndpointTTL,
		DefaultTTL:  r.CacheTTL,
		StaleTTL:    stale,
		MaxEntries:  r.CacheMaxEntries,
		CallTimeout: callTimeout,
		Hooks: cache.Hooks{
			OnHit:        func(e string) { m.CacheEvent(e, "hit") },
			OnMiss:       func(e string) { m.CacheEvent(e, "miss") },
			OnStale:      func(e string) { m.CacheEvent(e, "stale") },
			OnRevalidate: func(e string) { m.CacheEvent(e, "revalidate") },
		},
		SWR:               cfg.Freshness.SWR,
		RefreshAhead:      cfg.Freshness.RefreshAhead,
		NotFoundTTL:       cfg.Freshness.NotFoundTTL,
		CallerCredentials: r.PassThrough(),
		Shared:            l2,
	})
}

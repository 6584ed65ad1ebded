package main

import (
	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/telemetry"
)

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
	return cache.New(client, cache.Config{
		TTL:         r.EndpointTTL,
		DefaultTTL:  r.CacheTTL,
		StaleTTL:    r.StaleTTL,
		MaxEntries:  r.CacheMaxEntries,
		CallTimeout: client.CallBudget(),
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

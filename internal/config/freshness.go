package config

import (
	"time"

	"github.com/covage/gateway/internal/cache"
)

// Freshness holds what keeps warm data from ever making a user wait for
// Covage: stale-while-revalidate, refresh-ahead, prefetch and the memory of
// 404s. None of it applies to an endpoint whose TTL is 0.
type Freshness struct {
	// SWR is how long after expiry an answer is served at once while one
	// background refresh fetches a new one (COVAGE_CACHE_SWR, default 1m);
	// 0 turns it off.
	SWR time.Duration
	// RefreshAhead refreshes each list read within its TTL shortly before
	// it expires (COVAGE_REFRESH_AHEAD, default true).
	RefreshAhead bool
	// Prefetch fetches every list at start (COVAGE_PREFETCH, default false).
	Prefetch bool
	// ReadyAfterPrefetch holds /readyz until the prefetch has finished or
	// failed, for a few seconds at most (READY_AFTER_PREFETCH, default
	// false). It needs Prefetch.
	ReadyAfterPrefetch bool
	// NotFoundTTL is how long a lookup Covage answered 404 is remembered
	// (COVAGE_CACHE_TTL_NOT_FOUND, default 1m); 0 turns it off.
	NotFoundTTL time.Duration
}

func (p *parser) freshness() Freshness {
	f := Freshness{
		SWR:                p.duration("COVAGE_CACHE_SWR", cache.DefaultSWR),
		RefreshAhead:       p.bool("COVAGE_REFRESH_AHEAD", true),
		Prefetch:           p.bool("COVAGE_PREFETCH", false),
		ReadyAfterPrefetch: p.bool("READY_AFTER_PREFETCH", false),
		NotFoundTTL:        p.duration("COVAGE_CACHE_TTL_NOT_FOUND", cache.DefaultNotFoundTTL),
	}
	if f.ReadyAfterPrefetch && !f.Prefetch {
		p.fail("READY_AFTER_PREFETCH=true waits for the prefetch: set COVAGE_PREFETCH=true too")
	}
	return f
}

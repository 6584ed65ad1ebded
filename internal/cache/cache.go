// Package cache is the cache shared across requests, beneath the
// per-request loaders: it shields Covage from repeated reads and shields
// callers from Covage's outages.
//
//   - Fresh values are served for a TTL set per endpoint.
//   - Concurrent identical calls (same endpoint, same canonical query, same
//     credential) share one upstream call, which the callers' cancellation
//     does not cancel.
//   - An expired value is kept for a grace period (Config.StaleTTL) and
//     served when Covage fails with an outage (5xx, timeout, network error,
//     429, open circuit, unreadable body); the caller's context is told
//     through the reporter installed with WithStaleReporter.
//
// Every key holds the upstream's CredentialID for the caller's context, so
// two callers with different credentials never share a value or a call.
//
// Cached values are the decoded domain values (slices of pointers), shared
// by every request that reads them: nothing above this package may modify a
// value it got from Covage, neither the slice nor the structs it points to.
package cache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// Upstream is what the cache wraps: the methods of loaders.Upstream, plus
// the identity of the credential a call would use. *covage.Client
// implements it.
type Upstream interface {
	Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error)
	Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error)
	Businesses(ctx context.Context) ([]*domain.Business, error)
	BillingSite(ctx context.Context, code string) (*domain.BillingSite, error)
	TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error)
	ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error)
	SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error)
	// CredentialID names, without revealing it, the credential a call with
	// ctx would send. It is part of every key.
	CredentialID(ctx context.Context) string
}

// Defaults for Config.
const (
	DefaultTTL         = 5 * time.Minute
	DefaultStaleTTL    = 24 * time.Hour
	DefaultMaxEntries  = 10000
	DefaultCallTimeout = 30 * time.Second
)

// Config configures a Cache. The zero value is usable.
type Config struct {
	// TTL is how long a value stays fresh, by endpoint name (the
	// covage.Endpoint constants). Endpoints not in the map use DefaultTTL.
	// A TTL of 0 in the map turns caching off for that endpoint; its calls
	// are still coalesced.
	TTL map[string]time.Duration
	// DefaultTTL is the TTL of endpoints not in TTL; 5 minutes when zero.
	DefaultTTL time.Duration
	// StaleTTL is how long after it expires a value may still be served
	// when Covage fails; 24 hours when zero, none when negative.
	StaleTTL time.Duration
	// MaxEntries bounds the entries kept, fresh and stale, evicting the
	// least recently used; 10000 when zero.
	MaxEntries int
	// CallTimeout bounds a shared upstream call, which runs detached from
	// the callers' cancellation; 30s when zero. It should cover the
	// client's timeout times its attempts.
	CallTimeout time.Duration
	// Hooks are called on every lookup, e.g. to count in metrics.
	Hooks Hooks
	// Shared is the second level shared by replicas (l2.go); none when
	// its Level is nil.
	Shared SharedConfig
}

// Hooks observe the cache. Each is optional, called synchronously with the
// endpoint name, so it must be quick.
type Hooks struct {
	OnHit   func(endpoint string) // a fresh value was served
	OnMiss  func(endpoint string) // Covage was asked (or a shared call joined)
	OnStale func(endpoint string) // a stale value was served instead of an error
	OnEvict func(endpoint string) // an entry was evicted to make room
}

// Stats are the cache's counters since it was built.
type Stats struct {
	Hits      uint64 // fresh values served
	Misses    uint64 // lookups that needed Covage
	Coalesced uint64 // misses answered by another caller's call
	Stale     uint64 // stale values served instead of an error
	Evictions uint64 // entries evicted to make room
	Entries   int    // entries held now
}

// Cache wraps an Upstream. It implements the loaders' Upstream interface
// and is safe for concurrent use; build one per upstream and share it.
type Cache struct {
	up    Upstream
	cfg   Config
	lru   *lru.Cache[string, *entry]
	group singleflight.Group
	// version is the codec version in every second-level key (codec.go).
	version string

	hits, misses, coalesced, stale, evictions atomic.Uint64
}

// entry is one cached value. It is never modified once stored.
type entry struct {
	val        any
	stored     time.Time
	expires    time.Time
	staleUntil time.Time
}

// New wraps up.
func New(up Upstream, cfg Config) (*Cache, error) {
	if up == nil {
		return nil, errors.New("cache: nil upstream")
	}
	if cfg.DefaultTTL < 0 || cfg.MaxEntries < 0 || cfg.CallTimeout < 0 {
		return nil, errors.New("cache: negative setting")
	}
	for ep, ttl := range cfg.TTL {
		if ttl < 0 {
			return nil, fmt.Errorf("cache: negative ttl for %s", ep)
		}
	}
	if cfg.DefaultTTL == 0 {
		cfg.DefaultTTL = DefaultTTL
	}
	if cfg.StaleTTL == 0 {
		cfg.StaleTTL = DefaultStaleTTL
	}
	cfg.StaleTTL = max(cfg.StaleTTL, 0)
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Shared.LeaseTTL <= 0 {
		cfg.Shared.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Shared.MaxValueBytes <= 0 {
		cfg.Shared.MaxValueBytes = DefaultMaxValueBytes
	}
	c := &Cache{up: up, cfg: cfg, version: codecVersion()}
	l, err := lru.NewWithEvict(cfg.MaxEntries, c.evicted)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.lru = l
	return c, nil
}

// evicted runs when the LRU drops an entry to make room (the cache never
// removes entries otherwise).
func (c *Cache) evicted(key string, _ *entry) {
	c.evictions.Add(1)
	if c.cfg.Hooks.OnEvict != nil {
		c.cfg.Hooks.OnEvict(endpointOf(key))
	}
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		Coalesced: c.coalesced.Load(),
		Stale:     c.stale.Load(),
		Evictions: c.evictions.Load(),
		Entries:   c.lru.Len(),
	}
}

// CredentialID passes the upstream's identity through, so caches stack.
func (c *Cache) CredentialID(ctx context.Context) string { return c.up.CredentialID(ctx) }

// Projects is Upstream.Projects, cached.
func (c *Cache) Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error) {
	return lookup(ctx, c, covage.EndpointProject, covage.ProjectQuery(f).Encode(), func(ctx context.Context) ([]*domain.Project, error) {
		return c.up.Projects(ctx, f)
	})
}

// Ennis is Upstream.Ennis, cached.
func (c *Cache) Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error) {
	return lookup(ctx, c, covage.EndpointEnni, covage.EnniQuery(f).Encode(), func(ctx context.Context) ([]*domain.Enni, error) {
		return c.up.Ennis(ctx, f)
	})
}

// Businesses is Upstream.Businesses, cached.
func (c *Cache) Businesses(ctx context.Context) ([]*domain.Business, error) {
	return lookup(ctx, c, covage.EndpointBusiness, "", c.up.Businesses)
}

// BillingSite is Upstream.BillingSite, cached. Not-found answers are not
// cached.
func (c *Cache) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	return lookup(ctx, c, covage.EndpointBillingSite, url.QueryEscape(code), func(ctx context.Context) (*domain.BillingSite, error) {
		return c.up.BillingSite(ctx, code)
	})
}

// TerminateReasons is Upstream.TerminateReasons, cached.
func (c *Cache) TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error) {
	return lookup(ctx, c, covage.EndpointTerminateReason, "", c.up.TerminateReasons)
}

// ChangeReasons is Upstream.ChangeReasons, cached.
func (c *Cache) ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error) {
	return lookup(ctx, c, covage.EndpointChangeReason, "", c.up.ChangeReasons)
}

// SiteConnectionTypes is Upstream.SiteConnectionTypes, cached.
func (c *Cache) SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error) {
	return lookup(ctx, c, covage.EndpointSiteConnection, "", c.up.SiteConnectionTypes)
}

// ttl is the endpoint's TTL.
func (c *Cache) ttl(endpoint string) time.Duration {
	if ttl, ok := c.cfg.TTL[endpoint]; ok {
		return ttl
	}
	return c.cfg.DefaultTTL
}

// errPanic is what callers of a shared call see when it panicked.
var errPanic = errors.New("cache: upstream call panicked")

// lookup answers one call: a fresh entry, else the shared upstream call,
// else (on an outage) the stale entry.
func lookup[T any](ctx context.Context, c *Cache, endpoint, query string, fetch func(context.Context) (T, error)) (T, error) {
	var zero T
	// The credential comes first after the endpoint, so no query text can
	// make two identities' keys collide; neither part holds a NUL.
	key := endpoint + "\x00" + c.up.CredentialID(ctx) + "\x00" + query
	ttl := c.ttl(endpoint)

	reads := readsOf(ctx)
	var stale *entry
	if ttl > 0 {
		if e, ok := c.lru.Get(key); ok {
			now := time.Now()
			if now.Before(e.expires) {
				c.hits.Add(1)
				c.hook(c.cfg.Hooks.OnHit, endpoint)
				reads.add(c, key, e)
				return e.val.(T), nil
			}
			if now.Before(e.staleUntil) {
				stale = e
			}
		}
	}
	c.misses.Add(1)
	c.hook(c.cfg.Hooks.OnMiss, endpoint)

	leader := false
	ch := c.group.DoChan(key, func() (v any, err error) {
		leader = true
		// singleflight re-panics in a goroutine of its own, which would
		// stop the process: turn a panic into an error instead.
		defer func() {
			if r := recover(); r != nil {
				v, err = nil, fmt.Errorf("%w: %v", errPanic, r)
			}
		}()
		// A call that finished between this caller's lookup and now has
		// stored a fresh value: use it rather than ask again.
		if ttl > 0 {
			if e, ok := c.lru.Peek(key); ok && time.Now().Before(e.expires) {
				leader = false
				return e, nil
			}
		}
		// The call outlives any one caller: a caller that gives up must not
		// fail it for the others.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CallTimeout)
		defer cancel()
		// The second level, when there is one, may answer with a value
		// another replica fetched, at the time it was fetched.
		val, fetched, err := fetchShared(callCtx, c, key, ttl, fetch)
		if err != nil {
			return nil, err
		}
		e := &entry{val: val, stored: fetched, expires: fetched.Add(ttl), staleUntil: fetched.Add(ttl + c.cfg.StaleTTL)}
		if ttl > 0 {
			c.lru.Add(key, e)
		}
		return e, nil
	})

	select {
	case r := <-ch:
		if !leader {
			c.coalesced.Add(1)
		}
		if r.Err == nil {
			e := r.Val.(*entry)
			if ttl > 0 {
				reads.add(c, key, e)
			} else {
				reads.uncached()
			}
			return e.val.(T), nil
		}
		reads.uncached()
		if stale == nil && isOutage(r.Err) {
			stale = c.staleFromShared(key, ttl, r.Err)
		}
		if stale != nil && isOutage(r.Err) {
			return c.serveStale(ctx, endpoint, stale).(T), nil
		}
		return zero, unwrapShared(r.Err)
	case <-ctx.Done():
		reads.uncached()
		err := ctx.Err()
		if stale != nil && errors.Is(err, context.DeadlineExceeded) {
			return c.serveStale(ctx, endpoint, stale).(T), nil
		}
		kind := covage.ErrTimeout
		if !errors.Is(err, context.DeadlineExceeded) {
			kind = context.Canceled
		}
		return zero, &covage.Error{Endpoint: endpoint, Kind: kind, Err: err}
	}
}

// serveStale counts and reports a stale answer, and returns its value.
func (c *Cache) serveStale(ctx context.Context, endpoint string, e *entry) any {
	c.stale.Add(1)
	c.hook(c.cfg.Hooks.OnStale, endpoint)
	if report, ok := ctx.Value(reporterKey{}).(StaleReporter); ok {
		report(ctx, endpoint, time.Since(e.stored))
	}
	return e.val
}

func (c *Cache) hook(h func(string), endpoint string) {
	if h != nil {
		h(endpoint)
	}
}

// isOutage reports the failures a stale value may stand in for: Covage is
// down, slow, rate limiting, behind an open circuit, or sending bodies that
// do not decode. A refused credential or a missing object is an answer,
// not an outage, and is passed on.
func isOutage(err error) bool {
	return errors.Is(err, covage.ErrUnavailable) || errors.Is(err, covage.ErrTimeout) ||
		errors.Is(err, covage.ErrRateLimited) || errors.Is(err, covage.ErrBadResponse)
}

// endpointOf reads the endpoint back from a key.
func endpointOf(key string) string {
	ep, _, _ := strings.Cut(key, "\x00")
	return ep
}

// StaleReporter is told that a stale value of endpoint, age old, answered a
// call made with ctx (the caller's context, so it can read the GraphQL
// field being resolved).
type StaleReporter func(ctx context.Context, endpoint string, age time.Duration)

type reporterKey struct{}

// WithStaleReporter returns a context whose stale answers are reported to
// report. The gateway installs one per request, to list stale fields in the
// response's extensions.
func WithStaleReporter(ctx context.Context, report StaleReporter) context.Context {
	return context.WithValue(ctx, reporterKey{}, report)
}

// Reads records the entries a request's lookups were answered with, so that
// a result computed from them alone can be reused for exactly as long as a
// new lookup would return the same entries: the response cache's test of
// freshness. A nil *Reads records nothing.
type Reads struct {
	mu      sync.Mutex
	cache   *Cache
	keys    []string
	entries []*entry
	// other is set by a lookup answered otherwise: an error, a stale
	// value, an endpoint whose TTL is 0, or a second Cache.
	other  bool
	sealed bool
}

type readsKey struct{}

// WithReads returns a context whose lookups are recorded in the returned
// Reads.
func WithReads(ctx context.Context) (context.Context, *Reads) {
	r := &Reads{}
	return context.WithValue(ctx, readsKey{}, r), r
}

func readsOf(ctx context.Context) *Reads {
	r, _ := ctx.Value(readsKey{}).(*Reads)
	return r
}

func (r *Reads) add(c *Cache, key string, e *entry) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		return
	}
	if r.cache != nil && r.cache != c {
		r.other = true
		return
	}
	r.cache = c
	r.keys = append(r.keys, key)
	r.entries = append(r.entries, e)
}

func (r *Reads) uncached() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.sealed {
		r.other = true
	}
}

// Seal stops recording (a lookup still running for a finished request did
// not shape its result) and reports whether every lookup so far was
// answered from a cached entry, so that Current can vouch for the result.
func (r *Reads) Seal() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sealed = true
	return !r.other
}

// Current reports whether each entry read is still the fresh entry a
// lookup of its key would return now. It refreshes their place in the LRU,
// as a lookup would. Call it only after Seal.
func (r *Reads) Current() bool {
	if r.cache == nil {
		return true // nothing was read
	}
	now := time.Now()
	for i, key := range r.keys {
		e, ok := r.cache.lru.Get(key)
		if !ok || e != r.entries[i] || !now.Before(e.expires) {
			return false
		}
	}
	return true
}

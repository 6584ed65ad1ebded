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
//   - For Config.SWR after it expires, a value is served at once while one
//     background refresh per key brings a new one (refresh.go); lists read
//     within their TTL are refreshed shortly before they expire
//     (Config.RefreshAhead, Run), and Prefetch fetches every list.
//   - A lookup Covage answers 404 is remembered for Config.NotFoundTTL.
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
	"math"
	"net/url"
	"runtime/debug"
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
	DefaultMaxEntries  = 10000
	DefaultCallTimeout = 30 * time.Second
	// DefaultStaleTTL, DefaultSWR and DefaultNotFoundTTL are the defaults
	// the configuration applies; in Config, zero turns each off, as it does
	// in their environment variables.
	DefaultStaleTTL           = 24 * time.Hour
	DefaultSWR                = time.Minute
	DefaultNotFoundTTL        = time.Minute
	DefaultRefreshConcurrency = 4
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
	// when Covage fails; never when zero, as COVAGE_STALE_TTL=0 means.
	// DefaultStaleTTL is the default the configuration applies.
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

	// SWR is how long after it expires a value is still served at once,
	// while one background refresh per key fetches a new one; off when 0.
	// Once a refresh has failed, the entry is served only under the
	// stale-if-error rules (StaleTTL).
	SWR time.Duration
	// RefreshAhead refreshes, shortly before it expires, every list read
	// within its TTL, so hot lists never expire (Run does it).
	RefreshAhead bool
	// NotFoundTTL is how long a lookup Covage answered 404 (a billing site
	// that does not exist) is remembered; off when 0. An endpoint whose TTL
	// is 0 never remembers one.
	NotFoundTTL time.Duration
	// RefreshConcurrency bounds the background refreshes running at once;
	// DefaultRefreshConcurrency when 0. A refresh that finds no room is
	// skipped, and the next lookup or tick tries again.
	RefreshConcurrency int
	// CallerCredentials says that every call's credential comes from the
	// caller's context (pass-through): there is none outside a request, so
	// refresh-ahead and Prefetch do nothing, and an SWR refresh uses the
	// context of the request that found the entry expired.
	CallerCredentials bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
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
	// OnRevalidate: an expired value was served while it is refreshed.
	OnRevalidate func(endpoint string)
}

// Stats are the cache's counters since it was built.
type Stats struct {
	Hits      uint64 // fresh values served
	Misses    uint64 // lookups that needed Covage
	Coalesced uint64 // misses answered by another caller's call
	Stale     uint64 // stale values served instead of an error
	Evictions uint64 // entries evicted to make room
	Entries   int    // entries held now
	// Revalidated counts expired values served at once (SWR), Refreshes
	// the background refresh calls started (SWR and refresh-ahead), and
	// NotFound the remembered 404s served.
	Revalidated, Refreshes, NotFound uint64
}

// Cache wraps an Upstream. It implements the loaders' Upstream interface
// and is safe for concurrent use; build one per upstream and share it.
type Cache struct {
	up    Upstream
	cfg   Config
	lru   *lru.Cache[string, *entry]
	group singleflight.Group
	bg    background
	// version is the codec version in every second-level key (codec.go).
	version string

	hits, misses, coalesced, stale, evictions atomic.Uint64
	revalidated, refreshes, notFound          atomic.Uint64
}

// entry is one cached value, or a remembered 404 (err set). Its fields are
// never modified once stored, except the atomics, which only track use.
type entry struct {
	val        any
	err        error // the 404, for a remembered not-found
	stored     time.Time
	expires    time.Time
	swrUntil   time.Time // served at once while refreshed, until then
	staleUntil time.Time // served when Covage fails, until then
	// refetch asks Covage again for this key, through the same shared call
	// as a miss; refresh-ahead uses it.
	refetch func(context.Context) (any, time.Time, error)
	// readAt is when a lookup last read the entry (UnixNano), so that
	// refresh-ahead keeps only what is in use warm.
	readAt atomic.Int64
	// refreshFailed is set when a background refresh failed: from then on
	// the entry is served only as stale-if-error allows, and marked so.
	refreshFailed atomic.Bool
}

// New wraps up.
func New(up Upstream, cfg Config) (*Cache, error) {
	if up == nil {
		return nil, errors.New("cache: nil upstream")
	}
	if cfg.DefaultTTL < 0 || cfg.StaleTTL < 0 || cfg.MaxEntries < 0 || cfg.CallTimeout < 0 || cfg.SWR < 0 || cfg.NotFoundTTL < 0 || cfg.RefreshConcurrency < 0 {
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
	if cfg.RefreshConcurrency == 0 {
		cfg.RefreshConcurrency = DefaultRefreshConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Cache{up: up, cfg: cfg, version: codecVersion()}
	c.bg.init(cfg.RefreshConcurrency)
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

		Revalidated: c.revalidated.Load(),
		Refreshes:   c.refreshes.Load(),
		NotFound:    c.notFound.Load(),
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

// BillingSite is Upstream.BillingSite, cached. A not-found answer is
// remembered for Config.NotFoundTTL.
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

// Peek returns the value held for endpoint and query (the canonical query
// the typed methods use) under ctx's credential, fresh or stale, without
// calling upstream, counting a hit or a miss, or refreshing its place in
// the LRU. It is for estimates, such as the cost of an operation, never for
// answers.
func (c *Cache) Peek(ctx context.Context, endpoint, query string) (any, bool) {
	e, ok := c.lru.Peek(endpoint + "\x00" + c.up.CredentialID(ctx) + "\x00" + query)
	if !ok || !c.cfg.Now().Before(e.staleUntil) {
		return nil, false
	}
	return e.val, true
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

// lookup answers one call: a fresh entry; else, within the SWR window, the
// expired entry at once while a background refresh runs; else the shared
// upstream call; else (on an outage) the stale entry.
func lookup[T any](ctx context.Context, c *Cache, endpoint, query string, fetch func(context.Context) (T, error)) (T, error) {
	var zero T
	// The credential comes first after the endpoint, so no query text can
	// make two identities' keys collide; neither part holds a NUL.
	key := endpoint + "\x00" + c.up.CredentialID(ctx) + "\x00" + query
	ttl := c.ttl(endpoint)
	// The second level, when there is one, may answer with a value another
	// replica fetched, at the time it was fetched (l2.go).
	refetch := func(ctx context.Context) (any, time.Time, error) { return fetchShared(ctx, c, key, ttl, fetch) }

	reads := readsOf(ctx)
	var seen, stale *entry
	if ttl > 0 {
		if e, ok := c.lru.Get(key); ok {
			now := c.cfg.Now()
			e.readAt.Store(now.UnixNano())
			if now.Before(e.expires) {
				c.hits.Add(1)
				c.hook(c.cfg.Hooks.OnHit, endpoint)
				reads.add(c, key, e)
				return answer[T](c, e)
			}
			seen = e
			if now.Before(e.swrUntil) && !e.refreshFailed.Load() {
				// Served at once, not as stale: a refresh is on its way. The
				// answer is not reusable by the response cache, and its
				// freshness is nil.
				c.revalidated.Add(1)
				c.hook(c.cfg.Hooks.OnRevalidate, endpoint)
				reads.uncached()
				c.refresh(ctx, key, endpoint, e)
				return answer[T](c, e)
			}
			if now.Before(e.staleUntil) {
				stale = e
			}
		}
	}
	c.misses.Add(1)
	c.hook(c.cfg.Hooks.OnMiss, endpoint)

	leader := false
	ch := c.call(ctx, key, endpoint, ttl, seen, refetch, &leader)

	select {
	case r := <-ch:
		if !leader {
			c.coalesced.Add(1)
		}
		if r.Err == nil {
			e := r.Val.(*entry)
			e.readAt.Store(c.cfg.Now().UnixNano())
			if ttl > 0 {
				reads.add(c, key, e)
			} else {
				reads.uncached()
			}
			return answer[T](c, e)
		}
		reads.uncached()
		if errors.Is(r.Err, covage.ErrUnauthenticated) {
			// A credential Covage refuses loses what was cached for it, so
			// no stale value can ever stand in for the refusal later.
			c.forget(c.up.CredentialID(ctx))
			return zero, r.Err
		}
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

// ForgetCredential drops every entry cached for the credential a call with
// ctx would send. The gateway calls it when Covage refuses a pass-through
// token, so neither a fresh nor a stale answer is served to it again.
func (c *Cache) ForgetCredential(ctx context.Context) { c.forget(c.up.CredentialID(ctx)) }

// forget removes the entries of one credential. It walks every key: it runs
// only when Covage refuses a credential, which the gateway bounds to once
// per token and interval.
func (c *Cache) forget(credential string) {
	for _, key := range c.lru.Keys() {
		if _, rest, ok := strings.Cut(key, "\x00"); ok && strings.HasPrefix(rest, credential+"\x00") {
			c.lru.Remove(key)
		}
	}
}

// answer returns an entry's value, or its remembered 404.
func answer[T any](c *Cache, e *entry) (T, error) {
	if e.err != nil {
		c.notFound.Add(1)
		var zero T
		return zero, e.err
	}
	return e.val.(T), nil
}

// call starts, or joins, the one shared upstream call for key: misses and
// background refreshes alike go through it, so they coalesce (and anything
// that guards a call, such as a lease, guards both). seen is the entry the
// caller found, if any: when another entry has been stored since and is
// fresh, it is the answer, and Covage is not asked again. leader, when not
// nil, is set when this caller's call ran.
func (c *Cache) call(ctx context.Context, key, endpoint string, ttl time.Duration, seen *entry, fetch func(context.Context) (any, time.Time, error), leader *bool) <-chan singleflight.Result {
	return c.group.DoChan(key, func() (v any, err error) {
		if leader != nil {
			*leader = true
		}
		// singleflight re-panics in a goroutine of its own, which would
		// stop the process: turn a panic into an error instead.
		defer func() {
			if r := recover(); r != nil {
				v, err = nil, fmt.Errorf("%w: %v\n%s", errPanic, r, debug.Stack())
			}
		}()
		// A call that finished between this caller's lookup and now has
		// stored a fresh value: use it rather than ask again.
		if ttl > 0 {
			if e, ok := c.lru.Peek(key); ok && e != seen && c.cfg.Now().Before(e.expires) {
				if leader != nil {
					*leader = false
				}
				return e, nil
			}
		}
		// The call outlives any one caller: a caller that gives up must not
		// fail it for the others.
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CallTimeout)
		defer cancel()
		val, fetched, err := fetch(callCtx)
		if err != nil {
			now := c.cfg.Now()
			if ttl > 0 && c.cfg.NotFoundTTL > 0 && errors.Is(err, covage.ErrNotFound) {
				// A 404 is an answer: remember it, so that an unknown code
				// does not cost a call on every request. It is never served
				// as stale.
				exp := now.Add(c.cfg.NotFoundTTL)
				e := &entry{err: err, stored: now, expires: exp, swrUntil: exp.Add(c.cfg.SWR), staleUntil: exp, refetch: fetch}
				c.store(key, endpoint, e)
			}
			return nil, err
		}
		exp := fetched.Add(ttl)
		e := &entry{val: val, stored: fetched, expires: exp, swrUntil: exp.Add(c.cfg.SWR), staleUntil: exp.Add(c.cfg.StaleTTL), refetch: fetch}
		if ttl > 0 {
			c.store(key, endpoint, e)
		}
		return e, nil
	})
}

// serveStale counts and reports a stale answer, and returns its value.
func (c *Cache) serveStale(ctx context.Context, endpoint string, e *entry) any {
	c.stale.Add(1)
	c.hook(c.cfg.Hooks.OnStale, endpoint)
	if report, ok := ctx.Value(reporterKey{}).(StaleReporter); ok {
		report(ctx, endpoint, c.cfg.Now().Sub(e.stored))
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

// StaleReporterFrom returns the reporter WithStaleReporter installed in
// ctx, for a layer above the cache that shares one answer between several
// callers and reports it again to each (the per-request loaders).
func StaleReporterFrom(ctx context.Context) (StaleReporter, bool) {
	r, ok := ctx.Value(reporterKey{}).(StaleReporter)
	return r, ok
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

// ReadsOf returns the Reads ctx records into, or nil.
func ReadsOf(ctx context.Context) *Reads { return readsOf(ctx) }

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
	now := r.cache.cfg.Now()
	for i, key := range r.keys {
		e, ok := r.cache.lru.Get(key)
		if !ok || e != r.entries[i] || !now.Before(e.expires) {
			return false
		}
	}
	return true
}

// FreshFor is how much longer the answer built from the reads stays fresh:
// the smallest remaining freshness of the entries read. It is 0 when
// nothing was read or a lookup was answered otherwise (an error, a stale
// or revalidated value, an endpoint whose TTL is 0), since such an answer
// vouches for nothing. Call it only after Seal.
func (r *Reads) FreshFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.other || r.cache == nil {
		return 0
	}
	now := r.cache.cfg.Now()
	least := time.Duration(math.MaxInt64)
	for _, e := range r.entries {
		least = min(least, e.expires.Sub(now))
	}
	return max(least, 0)
}

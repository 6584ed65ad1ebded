package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// background tracks the refreshes the cache runs on its own: at most one
// per key, at most a bounded number at once, and the list keys that
// refresh-ahead keeps warm.
type background struct {
	slots chan struct{} // one token per refresh allowed to run

	mu      sync.Mutex
	running map[string]bool     // keys being refreshed
	ahead   map[string]struct{} // list keys refresh-ahead watches
	wg      sync.WaitGroup
}

func (b *background) init(concurrency int) {
	b.slots = make(chan struct{}, concurrency)
	b.running = map[string]bool{}
	b.ahead = map[string]struct{}{}
}

// isList reports whether refresh-ahead and Prefetch apply to an endpoint:
// every endpoint but the billing-site lookup, which is fetched by code.
func isList(endpoint string) bool { return endpoint != covage.EndpointBillingSite }

// store keeps e under key, and has refresh-ahead watch it when it is a list
// the gateway can refresh on its own.
func (c *Cache) store(key, endpoint string, e *entry) {
	c.lru.Add(key, e)
	if c.cfg.RefreshAhead && !c.cfg.CallerCredentials && isList(endpoint) && e.err == nil {
		c.bg.mu.Lock()
		c.bg.ahead[key] = struct{}{}
		c.bg.mu.Unlock()
	}
}

// refresh starts one background refresh of key, whose current entry is
// old, unless one is running already or every slot is taken (then a later
// lookup or tick tries again). It goes through the same shared call as a
// miss, so a request that misses meanwhile joins it, and it runs with
// ctx's values but not its cancellation: in pass-through mode that is the
// token of the request that found the entry expired. A failed refresh
// leaves the entry to the stale-if-error rules.
func (c *Cache) refresh(ctx context.Context, key, endpoint string, old *entry) {
	c.bg.mu.Lock()
	if c.bg.running[key] {
		c.bg.mu.Unlock()
		return
	}
	select {
	case c.bg.slots <- struct{}{}:
	default:
		c.bg.mu.Unlock()
		return
	}
	c.bg.running[key] = true
	c.bg.wg.Add(1)
	c.bg.mu.Unlock()
	c.refreshes.Add(1)

	ctx = context.WithoutCancel(ctx)
	ttl := c.ttl(endpoint)
	go func() {
		defer func() {
			c.bg.mu.Lock()
			delete(c.bg.running, key)
			c.bg.mu.Unlock()
			<-c.bg.slots
			c.bg.wg.Done()
		}()
		r := <-c.call(ctx, key, endpoint, ttl, old, old.refetch, nil)
		if r.Err != nil {
			// A remembered 404 that now answers 404 again was stored anew
			// by the call; any other failure ends the SWR window.
			if !(old.err != nil && errors.Is(r.Err, covage.ErrNotFound)) {
				old.refreshFailed.Store(true)
			}
			return
		}
		// The new entry inherits the old one's last read, so refresh-ahead
		// keeps a list warm for as long as it is in use.
		if e, ok := r.Val.(*entry); ok {
			if last := old.readAt.Load(); last > e.readAt.Load() {
				e.readAt.Store(last)
			}
		}
	}()
}

// aheadOf is how long before it expires refresh-ahead refreshes an entry:
// a tenth of its TTL, at most 30 seconds.
func aheadOf(ttl time.Duration) time.Duration { return min(ttl/10, 30*time.Second) }

// RefreshDue starts a background refresh of every list entry that
// expires within its refresh-ahead margin (or has expired, but is still
// within its SWR window) and was read within its TTL. Run calls it on a
// ticker; tests call it with an injected clock. It does nothing unless
// Config.RefreshAhead is set, and in pass-through mode.
func (c *Cache) RefreshDue() {
	if !c.cfg.RefreshAhead || c.cfg.CallerCredentials {
		return
	}
	c.bg.mu.Lock()
	keys := make([]string, 0, len(c.bg.ahead))
	for k := range c.bg.ahead {
		keys = append(keys, k)
	}
	c.bg.mu.Unlock()
	now := c.cfg.Now()
	// A refresh outside any request runs with the gateway's own credential:
	// it may only refresh that credential's entries.
	own := "\x00" + c.up.CredentialID(context.Background()) + "\x00"
	for _, key := range keys {
		e, ok := c.lru.Peek(key)
		endpoint := endpointOf(key)
		ttl := c.ttl(endpoint)
		if !ok || e.err != nil || e.refreshFailed.Load() || !now.Before(e.swrUntil) ||
			now.Sub(time.Unix(0, e.readAt.Load())) > ttl {
			// Evicted, failed, too old, or no longer read: stop watching
			// it; the next miss stores and watches it again.
			c.bg.mu.Lock()
			delete(c.bg.ahead, key)
			c.bg.mu.Unlock()
			continue
		}
		if !now.Before(e.expires.Add(-aheadOf(ttl))) && strings.Contains(key, own) {
			c.refresh(context.Background(), key, endpoint, e)
		}
	}
}

// Run calls RefreshDue until ctx is done, often enough to catch the
// shortest TTL's margin (every second at most, every 50ms at least).
func (c *Cache) Run(ctx context.Context) {
	if !c.cfg.RefreshAhead || c.cfg.CallerCredentials {
		return
	}
	shortest := c.cfg.DefaultTTL
	for _, ttl := range c.cfg.TTL {
		if ttl > 0 {
			shortest = min(shortest, ttl)
		}
	}
	tick := time.NewTicker(min(max(aheadOf(shortest)/2, 50*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.RefreshDue()
		}
	}
}

// Wait waits for the background refreshes running now to end.
func (c *Cache) Wait() { c.bg.wg.Wait() }

// Prefetch fetches every list (unfiltered) through the cache, in parallel,
// so the first requests find them warm. Endpoints whose TTL is 0 are
// skipped, and in pass-through mode it does nothing: there is no caller
// token outside a request. It returns the failures, joined.
func (c *Cache) Prefetch(ctx context.Context) error {
	if c.cfg.CallerCredentials {
		return nil
	}
	calls := map[string]func() error{
		covage.EndpointProject: func() error { _, err := c.Projects(ctx, domain.ProjectFilter{}); return err },
		covage.EndpointEnni:    func() error { _, err := c.Ennis(ctx, domain.EnniFilter{}); return err },
		covage.EndpointBusiness: func() error {
			_, err := c.Businesses(ctx)
			return err
		},
		covage.EndpointTerminateReason: func() error { _, err := c.TerminateReasons(ctx); return err },
		covage.EndpointChangeReason:    func() error { _, err := c.ChangeReasons(ctx); return err },
		covage.EndpointSiteConnection:  func() error { _, err := c.SiteConnectionTypes(ctx); return err },
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for endpoint, call := range calls {
		if c.ttl(endpoint) == 0 {
			continue
		}
		wg.Go(func() {
			if err := call(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

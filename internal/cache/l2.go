package cache

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"
)

// Shared is a second cache level shared by every replica, beneath the
// in-process cache (internal/shared implements it over Redis). Values are
// stored once, with the time they were fetched, so every replica judges
// freshness and staleness the same way; and a short lease lets one replica
// fetch a missing value while the others wait for it.
//
// Every method is bounded by the implementation's own short timeout; an
// error means "no second level this time", never a failed request.
type Shared interface {
	// Claim reads name. It returns the stored value when it was fetched
	// after freshAfter, or, when withStale is set, whatever value is
	// stored; and when the value is not fresh it tries to take the lease
	// with token for leaseTTL.
	Claim(ctx context.Context, name string, freshAfter time.Time, withStale bool, token string, leaseTTL time.Duration) (Claim, error)
	// Store writes the value fetched at fetched, kept for keep, and
	// releases the lease if token still holds it. An older value never
	// replaces a newer one.
	Store(ctx context.Context, name string, data []byte, fetched time.Time, keep time.Duration, token string) error
	// Release gives the lease up after a failed fetch: for failTTL, other
	// replicas stop waiting and fetch for themselves.
	Release(ctx context.Context, name, token string, failTTL time.Duration) error
	// Extend keeps the lease while its holder is still fetching.
	Extend(ctx context.Context, name, token string, leaseTTL time.Duration) error
}

// Claim is what Shared.Claim found.
type Claim struct {
	// Data and Fetched are the stored value, if any was returned.
	Data    []byte
	Fetched time.Time
	// Fresh reports that Data was fetched after freshAfter.
	Fresh bool
	// Lease says who fetches when the value is not fresh.
	Lease LeaseState
}

// LeaseState is the state of a key's lease after a Claim.
type LeaseState int

// Lease states.
const (
	LeaseNone   LeaseState = iota // the value is fresh: no lease was tried
	LeaseWon                      // this caller holds the lease: it fetches
	LeaseBusy                     // another replica holds it: wait
	LeaseFailed                   // the last holder failed: fetch without waiting
)

// SharedConfig tunes the second level.
type SharedConfig struct {
	// Level is the shared store; none when nil.
	Level Shared
	// LeaseTTL is how long a lease lives unless its holder extends it
	// (every LeaseTTL/3 while it fetches): how long others wait for a
	// holder that died or lost Redis. DefaultLeaseTTL when zero.
	LeaseTTL time.Duration
	// MaxValueBytes caps an encoded value; larger ones stay in memory only.
	// DefaultMaxValueBytes when zero.
	MaxValueBytes int
	// OnEvent observes the second level by endpoint: hit (a fresh value
	// from another replica), miss (this replica fetches under the lease),
	// wait (another replica holds it), stale (a stale value stood in for a
	// failing Covage), toolarge, corrupt.
	OnEvent func(endpoint, event string)
}

// Defaults for SharedConfig.
const (
	DefaultLeaseTTL      = 300 * time.Millisecond
	DefaultMaxValueBytes = 4 << 20
	// failTTL is how long a failed fetch sends waiting replicas to Covage
	// directly instead of queueing behind one another.
	failTTL = time.Second
	// pollMin and pollMax bound the interval at which a waiting replica
	// looks for the holder's value.
	pollMin = 2 * time.Millisecond
	pollMax = 25 * time.Millisecond
)

// sharedStale carries a stale value found in the second level with the
// fetch error it may stand in for.
type sharedStale struct {
	val     any
	fetched time.Time
	err     error
}

func (s *sharedStale) Error() string { return s.err.Error() }
func (s *sharedStale) Unwrap() error { return s.err }

// sharedName is key's name in the second level: the codec version, then
// the endpoint, the credential identity and the canonical query, none of
// which holds a "|".
func (c *Cache) sharedName(key string) string {
	return c.version + ":" + strings.ReplaceAll(key, "\x00", "|")
}

func (c *Cache) sharedEvent(endpoint, event string) {
	if c.cfg.Shared.OnEvent != nil {
		c.cfg.Shared.OnEvent(endpoint, event)
	}
}

// fetchShared is the fetch path of lookup's shared call. With no second
// level it is fetch. With one, a fresh value there answers; otherwise one
// replica fetches under a lease while the others wait for its value, and
// fetch for themselves if Redis fails, the holder fails, or the holder dies
// (its lease then expires). It returns the value and when it was fetched,
// which is earlier than now when another replica fetched it. Every path
// that calls Covage for a cached endpoint goes through here, so a refresh
// takes the lease too.
func fetchShared[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, fetch func(context.Context) (T, error)) (T, time.Time, error) {
	var zero T
	l2 := c.cfg.Shared.Level
	if l2 == nil || ttl <= 0 {
		v, err := fetch(ctx)
		return v, c.cfg.Now(), err
	}
	endpoint := endpointOf(key)
	name := c.sharedName(key)
	token := rand.Text()
	var stale *sharedStale
	delay := pollMin
	for first := true; ; first = false {
		cl, err := l2.Claim(ctx, name, c.cfg.Now().Add(-ttl), stale == nil, token, c.cfg.Shared.LeaseTTL)
		if err != nil {
			break // no second level this time: fetch alone
		}
		if cl.Data != nil {
			v, derr := unmarshal[T](cl.Data)
			switch {
			case derr != nil:
				c.sharedEvent(endpoint, "corrupt")
			case cl.Fresh:
				c.sharedEvent(endpoint, "hit")
				return v, cl.Fetched, nil
			case stale == nil:
				stale = &sharedStale{val: v, fetched: cl.Fetched}
			}
		}
		switch cl.Lease {
		case LeaseWon:
			if first {
				c.sharedEvent(endpoint, "miss")
			}
			return fetchLeased(ctx, c, endpoint, name, token, ttl, fetch, stale)
		case LeaseBusy:
			if first {
				c.sharedEvent(endpoint, "wait")
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return zero, time.Time{}, ctx.Err()
			}
			delay = min(delay*3/2, pollMax)
			continue
		}
		break // the last holder failed: fetch alone
	}
	v, err := fetch(ctx)
	if err != nil {
		return zero, time.Time{}, c.withSharedStale(err, stale, ttl)
	}
	now := c.cfg.Now()
	go c.storeShared(context.WithoutCancel(ctx), endpoint, name, v, now, ttl, "")
	return v, now, nil
}

// fetchLeased fetches while holding the lease, extending it until the
// fetch ends, then stores the value (releasing the lease) or marks the
// lease failed.
func fetchLeased[T any](ctx context.Context, c *Cache, endpoint, name, token string, ttl time.Duration, fetch func(context.Context) (T, error), stale *sharedStale) (T, time.Time, error) {
	l2 := c.cfg.Shared.Level
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(c.cfg.Shared.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = l2.Extend(ctx, name, token, c.cfg.Shared.LeaseTTL)
			}
		}
	}()
	v, err := fetch(ctx)
	// An extension still running is harmless: it only extends a lease
	// token still holds.
	close(stop)
	if err != nil {
		go func() { _ = l2.Release(context.WithoutCancel(ctx), name, token, failTTL) }()
		var zero T
		return zero, time.Time{}, c.withSharedStale(err, stale, ttl)
	}
	now := c.cfg.Now()
	// Encoding and storing happen after the callers have their value;
	// the other replicas wait on the lease until the store releases it.
	go c.storeShared(context.WithoutCancel(ctx), endpoint, name, v, now, ttl, token)
	return v, now, nil
}

// storeShared writes v to the second level for its fresh and stale time,
// in a goroutine of its own that ends within one Redis timeout. A value
// over the size cap is not stored; its lease is released as failed so that
// waiting replicas fetch for themselves.
func (c *Cache) storeShared(ctx context.Context, endpoint, name string, v any, fetched time.Time, ttl time.Duration, token string) {
	l2 := c.cfg.Shared.Level
	data, err := marshal(v)
	if err == nil && len(data) > c.cfg.Shared.MaxValueBytes {
		c.sharedEvent(endpoint, "toolarge")
		err = errors.New("too large")
	}
	if err != nil {
		if token != "" {
			_ = l2.Release(ctx, name, token, failTTL)
		}
		return
	}
	_ = l2.Store(ctx, name, data, fetched, ttl+c.cfg.StaleTTL, token)
}

// withSharedStale attaches a stale value from the second level to a fetch
// error, when it is still within the stale time.
func (c *Cache) withSharedStale(err error, stale *sharedStale, ttl time.Duration) error {
	if stale == nil || !c.cfg.Now().Before(stale.fetched.Add(ttl+c.cfg.StaleTTL)) {
		return err
	}
	return &sharedStale{val: stale.val, fetched: stale.fetched, err: err}
}

// staleFromShared turns a stale value carried by err into an entry, kept in
// the in-process cache too so later lookups of this replica find it.
func (c *Cache) staleFromShared(key string, ttl time.Duration, err error) *entry {
	var s *sharedStale
	if !errors.As(err, &s) {
		return nil
	}
	e := &entry{val: s.val, stored: s.fetched, expires: s.fetched.Add(ttl), staleUntil: s.fetched.Add(ttl + c.cfg.StaleTTL)}
	if old, ok := c.lru.Peek(key); !ok || old.stored.Before(e.stored) {
		c.lru.Add(key, e)
	}
	c.sharedEvent(endpointOf(key), "stale")
	return e
}

// unwrapShared returns the fetch error a stale value was attached to.
func unwrapShared(err error) error {
	if s, ok := err.(*sharedStale); ok {
		return s.err
	}
	return err
}

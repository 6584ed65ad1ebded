package cache_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// clock is an injectable clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// versions is an upstream whose every answer names the call that made it
// ("id:<caller>#<n>"), so a test sees whether a value was refreshed, and by
// whose credential. Calls block while gate is closed off (held), and
// billing sites are all unknown (404).
type versions struct {
	fake
	n atomic.Int64
}

func (v *versions) Ennis(ctx context.Context, _ domain.EnniFilter) ([]*domain.Enni, error) {
	if err := v.call(ctx); err != nil {
		return nil, err
	}
	return []*domain.Enni{{Reference: v.CredentialID(ctx) + "#" + strconv.FormatInt(v.n.Add(1), 10)}}, nil
}

func (v *versions) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	if err := v.call(ctx); err != nil {
		return nil, err
	}
	return nil, &covage.Error{Endpoint: covage.EndpointBillingSite, Kind: covage.ErrNotFound, StatusCode: 404}
}

func TestStaleWhileRevalidate(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, Now: clk.Now})
	ctx := as(context.Background(), "alice")
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))

	// Expired, within the SWR window, and Covage now hangs until released:
	// every request is answered at once from the expired value, and one
	// refresh runs for all of them.
	clk.add(time.Minute + time.Second)
	up.gate = make(chan struct{})
	up.started = make(chan struct{}, 10)
	reads := make([]*cache.Reads, 5)
	for i := range reads {
		rctx, r := cache.WithReads(ctx)
		reads[i] = r
		require.Equal(t, "id:alice#1", ref(t)(c.Ennis(rctx, domain.EnniFilter{})))
	}
	up.waitStart(t)
	require.EqualValues(t, 2, up.calls.Load(), "one refresh for five requests")
	for _, r := range reads {
		require.False(t, r.Seal(), "a revalidated answer is not reusable")
		require.Zero(t, r.FreshFor())
	}
	s := c.Stats()
	require.EqualValues(t, 5, s.Revalidated)
	require.EqualValues(t, 1, s.Refreshes)
	require.Zero(t, s.Stale, "revalidated answers are not stale ones")

	// A request that misses meanwhile (another key) is not held either, and
	// the refreshed value is served once the refresh is done.
	close(up.gate)
	c.Wait()
	require.Equal(t, "id:alice#2", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	require.EqualValues(t, 2, up.calls.Load())

	// Past the SWR window the request waits for Covage, as before.
	clk.add(3 * time.Minute)
	require.Equal(t, "id:alice#3", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
}

func TestFailedRefreshFallsUnderStaleIfError(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, StaleTTL: cache.DefaultStaleTTL, Now: clk.Now})
	var reported atomic.Int64
	ctx := cache.WithStaleReporter(as(context.Background(), "alice"), func(context.Context, string, time.Duration) { reported.Add(1) })
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))

	clk.add(time.Minute + time.Second)
	up.fail(&covage.Error{Kind: covage.ErrUnavailable, StatusCode: 503})
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	c.Wait()
	require.EqualValues(t, 2, up.calls.Load())
	require.Zero(t, reported.Load(), "the answer given while refreshing is not marked stale")

	// The refresh failed: the next request asks Covage itself, and gets the
	// old value marked stale.
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	require.EqualValues(t, 3, up.calls.Load())
	require.EqualValues(t, 1, reported.Load())
	require.EqualValues(t, 1, c.Stats().Stale)

	up.heal()
	require.Equal(t, "id:alice#2", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
}

func TestRefreshUsesTheCallersCredential(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, RefreshAhead: true, CallerCredentials: true, Now: clk.Now})
	alice, bob := as(context.Background(), "alice"), as(context.Background(), "bob")
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(alice, domain.EnniFilter{})))
	require.Equal(t, "id:bob#2", ref(t)(c.Ennis(bob, domain.EnniFilter{})))

	// Refresh-ahead and prefetch have no credential in pass-through mode.
	clk.add(59 * time.Second)
	c.RefreshDue()
	require.NoError(t, c.Prefetch(context.Background()))
	c.Wait()
	require.EqualValues(t, 2, up.calls.Load())

	clk.add(2 * time.Second)
	require.Equal(t, "id:bob#2", ref(t)(c.Ennis(bob, domain.EnniFilter{})))
	c.Wait()
	require.Equal(t, "id:bob#3", ref(t)(c.Ennis(bob, domain.EnniFilter{})), "bob's refresh ran with bob's credential")
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(alice, domain.EnniFilter{})), "alice's entry is hers alone")
	c.Wait()
	require.Equal(t, "id:alice#4", ref(t)(c.Ennis(alice, domain.EnniFilter{})))
}

func TestRefreshesAreBounded(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, RefreshConcurrency: 1, Now: clk.Now})
	ctx := context.Background()
	names := []string{"a", "b", "c"}
	for _, n := range names {
		ref(t)(c.Ennis(as(ctx, n), domain.EnniFilter{}))
	}
	clk.add(time.Minute + time.Second)
	up.gate = make(chan struct{})
	for _, n := range names {
		ref(t)(c.Ennis(as(ctx, n), domain.EnniFilter{}))
	}
	require.EqualValues(t, 1, c.Stats().Refreshes, "one slot: the other keys wait for a later request")
	close(up.gate)
	c.Wait()
	require.EqualValues(t, 4, up.calls.Load())
}

func TestRefreshAhead(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: 10 * time.Second, SWR: time.Minute, RefreshAhead: true, Now: clk.Now})
	// Service mode: the credential is the gateway's own, the same inside
	// and outside requests.
	ctx := context.Background()
	require.Equal(t, "id:#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	// Another credential's entry is never refreshed with the gateway's.
	require.Equal(t, "id:alice#2", ref(t)(c.Ennis(as(ctx, "alice"), domain.EnniFilter{})))
	site, err := c.BillingSite(ctx, "X")
	require.Nil(t, site)
	require.ErrorIs(t, err, covage.ErrNotFound)

	c.RefreshDue() // not due yet
	c.Wait()
	require.EqualValues(t, 3, up.calls.Load())

	// Within a tenth of the TTL of expiry, a list read in the last TTL is
	// refreshed before anyone asks; a billing site is not.
	clk.add(9500 * time.Millisecond)
	c.RefreshDue()
	c.Wait()
	require.EqualValues(t, 4, up.calls.Load())
	clk.add(time.Second) // past the first expiry: the new value is fresh
	require.Equal(t, "id:#3", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	require.Zero(t, c.Stats().Revalidated)

	// Read at 10.5 s, so still refreshed before its expiry at 19.5 s...
	clk.add(8500 * time.Millisecond)
	c.RefreshDue()
	c.Wait()
	require.EqualValues(t, 5, up.calls.Load())
	// ...but not read since: after its TTL it is no longer kept warm.
	clk.add(10 * time.Second)
	c.RefreshDue()
	c.Wait()
	require.EqualValues(t, 5, up.calls.Load())
}

func TestNotFoundIsRemembered(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Hour, NotFoundTTL: time.Minute, Now: clk.Now})
	ctx := as(context.Background(), "alice")
	for i := range 3 {
		rctx, reads := cache.WithReads(ctx)
		site, err := c.BillingSite(rctx, "NOPE")
		require.Nil(t, site)
		require.ErrorIs(t, err, covage.ErrNotFound)
		require.Equal(t, i > 0, reads.Seal(), "a remembered 404 is a cached answer")
	}
	require.EqualValues(t, 1, up.calls.Load())
	require.EqualValues(t, 2, c.Stats().NotFound)
	_, err := c.BillingSite(as(ctx, "bob"), "NOPE")
	require.ErrorIs(t, err, covage.ErrNotFound)
	require.EqualValues(t, 2, up.calls.Load(), "keyed by credential like any entry")

	clk.add(time.Minute)
	_, err = c.BillingSite(ctx, "NOPE")
	require.ErrorIs(t, err, covage.ErrNotFound)
	require.EqualValues(t, 3, up.calls.Load(), "asked again once it expires")
}

func TestZeroTTLTurnsEverythingOff(t *testing.T) {
	clk := newClock()
	up := &versions{}
	c := newCache(t, up, cache.Config{
		DefaultTTL: time.Hour, TTL: map[string]time.Duration{covage.EndpointEnni: 0, covage.EndpointBillingSite: 0},
		SWR: time.Minute, NotFoundTTL: time.Minute, RefreshAhead: true, Now: clk.Now,
	})
	ctx := as(context.Background(), "alice")
	require.NoError(t, c.Prefetch(ctx))
	before := up.calls.Load()
	for i := range 3 {
		require.Equal(t, "id:alice#"+strconv.FormatInt(int64(i+1), 10), ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
		_, err := c.BillingSite(ctx, "NOPE")
		require.ErrorIs(t, err, covage.ErrNotFound)
		clk.add(59 * time.Minute)
		c.RefreshDue()
		c.Wait()
	}
	require.EqualValues(t, before+6, up.calls.Load(), "every request reaches Covage")
	require.Zero(t, c.Stats().Revalidated)
	require.Zero(t, c.Stats().NotFound)
}

func TestPrefetch(t *testing.T) {
	up := &versions{}
	c := newCache(t, up, cache.Config{DefaultTTL: time.Hour})
	ctx := as(context.Background(), "alice")
	require.NoError(t, c.Prefetch(ctx))
	require.EqualValues(t, 6, up.calls.Load(), "each list once")
	require.Equal(t, "id:alice#1", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
	_, err := c.Projects(ctx, domain.ProjectFilter{})
	require.NoError(t, err)
	require.EqualValues(t, 6, up.calls.Load(), "warm")

	up.fail(&covage.Error{Kind: covage.ErrUnavailable, StatusCode: 503})
	cold := newCache(t, up, cache.Config{DefaultTTL: time.Hour})
	require.ErrorIs(t, cold.Prefetch(ctx), covage.ErrUnavailable)
}

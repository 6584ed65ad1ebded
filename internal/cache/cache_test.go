package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// whoKey carries the test caller's credential.
type whoKey struct{}

func as(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, whoKey{}, who)
}

// fake is an upstream that answers each credential with its own data,
// counts calls, and fails or blocks on demand.
type fake struct {
	calls   atomic.Int64
	err     atomic.Pointer[error]
	gate    chan struct{} // when set, calls wait for it
	started chan struct{} // when set, receives once per call
}

func (f *fake) CredentialID(ctx context.Context) string {
	who, _ := ctx.Value(whoKey{}).(string)
	return "id:" + who
}

func (f *fake) call(ctx context.Context) error {
	f.calls.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return &covage.Error{Kind: covage.ErrTimeout, Err: ctx.Err()}
		}
	}
	if p := f.err.Load(); p != nil {
		return *p
	}
	return nil
}

// waitStart waits for a call to start, failing the test rather than
// hanging when none does.
func (f *fake) waitStart(t *testing.T) {
	t.Helper()
	select {
	case <-f.started:
	case <-time.After(2 * time.Second):
		t.Fatal("no upstream call started")
	}
}

func (f *fake) fail(err error) { f.err.Store(&err) }
func (f *fake) heal()          { f.err.Store(nil) }

// Every list answers one item naming the caller, so a test sees whose data
// it got.
func (f *fake) Ennis(ctx context.Context, flt domain.EnniFilter) ([]*domain.Enni, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	ref := f.CredentialID(ctx)
	if flt.ShortName != nil {
		ref += "/" + *flt.ShortName
	}
	return []*domain.Enni{{Reference: ref}}, nil
}

func (f *fake) Projects(ctx context.Context, _ domain.ProjectFilter) ([]*domain.Project, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	return []*domain.Project{{Code: f.CredentialID(ctx)}}, nil
}

func (f *fake) Businesses(ctx context.Context) ([]*domain.Business, error) {
	return nil, f.call(ctx)
}

func (f *fake) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	return &domain.BillingSite{Code: code}, nil
}

func (f *fake) TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error) {
	return nil, f.call(ctx)
}

func (f *fake) ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error) {
	return nil, f.call(ctx)
}

func (f *fake) SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error) {
	return nil, f.call(ctx)
}

func newCache(t *testing.T, up cache.Upstream, cfg cache.Config) *cache.Cache {
	t.Helper()
	c, err := cache.New(up, cfg)
	require.NoError(t, err)
	return c
}

// ref checks an Ennis answer and returns its one reference.
func ref(t *testing.T) func([]*domain.Enni, error) string {
	return func(list []*domain.Enni, err error) string {
		t.Helper()
		require.NoError(t, err)
		require.Len(t, list, 1)
		return list[0].Reference
	}
}

func TestFreshHitsAndPerEndpointTTL(t *testing.T) {
	f := &fake{}
	c := newCache(t, f, cache.Config{TTL: map[string]time.Duration{covage.EndpointProject: 0}})
	ctx := as(context.Background(), "alice")
	for range 3 {
		ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
	}
	require.EqualValues(t, 1, f.calls.Load(), "one call, then hits")

	short := "ACME"
	require.Equal(t, "id:alice/ACME", ref(t)(c.Ennis(ctx, domain.EnniFilter{ShortName: &short})))
	require.EqualValues(t, 2, f.calls.Load(), "another query is another key")

	for range 2 {
		_, err := c.Projects(ctx, domain.ProjectFilter{})
		require.NoError(t, err)
	}
	require.EqualValues(t, 4, f.calls.Load(), "a TTL of 0 turns caching off for its endpoint")

	s := c.Stats()
	require.Equal(t, uint64(2), s.Hits)
	require.Equal(t, uint64(4), s.Misses)
	require.Equal(t, 2, s.Entries)
}

func TestExpiry(t *testing.T) {
	f := &fake{}
	c := newCache(t, f, cache.Config{DefaultTTL: 30 * time.Millisecond})
	ctx := as(context.Background(), "alice")
	ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
	time.Sleep(40 * time.Millisecond)
	ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
	require.EqualValues(t, 2, f.calls.Load())
}

func TestCoalescing(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	var misses atomic.Int64
	c := newCache(t, f, cache.Config{Hooks: cache.Hooks{OnMiss: func(string) { misses.Add(1) }}})
	ctx := as(context.Background(), "alice")

	const n = 50
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			list, err := c.Ennis(ctx, domain.EnniFilter{})
			errs[i] = err
			if err == nil {
				results[i] = list[0].Reference
			}
		})
	}
	f.waitStart(t)
	require.Eventually(t, func() bool { return misses.Load() == n }, 2*time.Second, time.Millisecond,
		"every caller is waiting on the shared call")
	close(f.gate)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, "id:alice", results[i])
	}
	require.EqualValues(t, 1, f.calls.Load())
	require.Equal(t, uint64(n-1), c.Stats().Coalesced)
}

func TestCancelledCallerDoesNotCancelSharedCall(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	c := newCache(t, f, cache.Config{})
	base := as(context.Background(), "alice")

	first, cancel := context.WithCancel(base)
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.Ennis(first, domain.EnniFilter{})
		firstErr <- err
	}()
	f.waitStart(t)
	second := make(chan string, 1)
	go func() { second <- ref(t)(c.Ennis(base, domain.EnniFilter{})) }()
	require.Eventually(t, func() bool { return c.Stats().Misses == 2 }, 2*time.Second, time.Millisecond)

	cancel()
	err := <-firstErr
	require.ErrorIs(t, err, context.Canceled, "the caller that gave up gets its own cancellation")
	close(f.gate)
	require.Equal(t, "id:alice", <-second, "the other caller still gets the shared answer")
	require.EqualValues(t, 1, f.calls.Load())
}

func TestStaleIfError(t *testing.T) {
	outages := []struct {
		name string
		err  error
	}{
		{"5xx", &covage.Error{Kind: covage.ErrUnavailable, StatusCode: 503}},
		{"timeout", &covage.Error{Kind: covage.ErrTimeout}},
		{"429", &covage.Error{Kind: covage.ErrRateLimited, StatusCode: 429}},
		{"circuit open", &covage.Error{Kind: covage.ErrCircuitOpen}},
		{"broken body", &covage.Error{Kind: covage.ErrBadResponse}},
	}
	for _, tc := range outages {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			var hooked atomic.Int64
			c := newCache(t, f, cache.Config{DefaultTTL: 10 * time.Millisecond, StaleTTL: cache.DefaultStaleTTL,
				Hooks: cache.Hooks{OnStale: func(ep string) { require.Equal(t, covage.EndpointEnni, ep); hooked.Add(1) }}})
			var reported []string
			ctx := cache.WithStaleReporter(as(context.Background(), "alice"), func(_ context.Context, ep string, age time.Duration) {
				require.GreaterOrEqual(t, age, 10*time.Millisecond)
				reported = append(reported, ep)
			})
			ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
			time.Sleep(15 * time.Millisecond)
			f.fail(tc.err)
			require.Equal(t, "id:alice", ref(t)(c.Ennis(ctx, domain.EnniFilter{})))
			require.Equal(t, []string{covage.EndpointEnni}, reported)
			require.EqualValues(t, 1, hooked.Load())
			require.Equal(t, uint64(1), c.Stats().Stale)

			// Once Covage answers again, the value is fresh again.
			f.heal()
			ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
			require.Len(t, reported, 1)
		})
	}
}

func TestNoStaleForAnswersOrAfterGrace(t *testing.T) {
	tests := []struct {
		name     string
		staleTTL time.Duration
		err      error
	}{
		{"unauthenticated is passed on", time.Hour, &covage.Error{Kind: covage.ErrUnauthenticated}},
		{"not found is passed on", time.Hour, &covage.Error{Kind: covage.ErrNotFound}},
		{"past the grace period", 5 * time.Millisecond, &covage.Error{Kind: covage.ErrUnavailable}},
		{"stale serving off", 0, &covage.Error{Kind: covage.ErrUnavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			c := newCache(t, f, cache.Config{DefaultTTL: 10 * time.Millisecond, StaleTTL: tc.staleTTL})
			ctx := as(context.Background(), "alice")
			ref(t)(c.Ennis(ctx, domain.EnniFilter{}))
			time.Sleep(25 * time.Millisecond)
			f.fail(tc.err)
			_, err := c.Ennis(ctx, domain.EnniFilter{})
			require.ErrorIs(t, err, tc.err.(*covage.Error).Kind)
			require.Zero(t, c.Stats().Stale)
		})
	}
}

// TestTenantIsolation proves that no mode lets one credential's data or
// call reach another: fresh hits, coalesced calls and stale answers.
func TestTenantIsolation(t *testing.T) {
	t.Run("fresh", func(t *testing.T) {
		f := &fake{}
		c := newCache(t, f, cache.Config{})
		require.Equal(t, "id:alice", ref(t)(c.Ennis(as(context.Background(), "alice"), domain.EnniFilter{})))
		require.Equal(t, "id:bob", ref(t)(c.Ennis(as(context.Background(), "bob"), domain.EnniFilter{})))
		require.Equal(t, "id:alice", ref(t)(c.Ennis(as(context.Background(), "alice"), domain.EnniFilter{})))
		require.EqualValues(t, 2, f.calls.Load())
	})
	t.Run("coalesced", func(t *testing.T) {
		f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 10)}
		c := newCache(t, f, cache.Config{})
		got := make(chan string, 2)
		for _, who := range []string{"alice", "bob"} {
			go func() { got <- ref(t)(c.Ennis(as(context.Background(), who), domain.EnniFilter{})) }()
		}
		f.waitStart(t)
		f.waitStart(t) // two calls start: different credentials never share one
		close(f.gate)
		require.ElementsMatch(t, []string{"id:alice", "id:bob"}, []string{<-got, <-got})
	})
	t.Run("stale", func(t *testing.T) {
		f := &fake{}
		c := newCache(t, f, cache.Config{DefaultTTL: 5 * time.Millisecond, StaleTTL: cache.DefaultStaleTTL})
		ref(t)(c.Ennis(as(context.Background(), "alice"), domain.EnniFilter{}))
		time.Sleep(10 * time.Millisecond)
		f.fail(&covage.Error{Kind: covage.ErrUnavailable})
		_, err := c.Ennis(as(context.Background(), "bob"), domain.EnniFilter{})
		require.ErrorIs(t, err, covage.ErrUnavailable, "bob never gets alice's stale data")
		require.Equal(t, "id:alice", ref(t)(c.Ennis(as(context.Background(), "alice"), domain.EnniFilter{})))
	})
}

func TestEvictionIsBoundedAndCounted(t *testing.T) {
	f := &fake{}
	var evicted atomic.Int64
	c := newCache(t, f, cache.Config{MaxEntries: 2, Hooks: cache.Hooks{OnEvict: func(ep string) {
		require.Equal(t, covage.EndpointBillingSite, ep)
		evicted.Add(1)
	}}})
	ctx := as(context.Background(), "alice")
	for _, code := range []string{"A", "B", "C", "A"} {
		_, err := c.BillingSite(ctx, code)
		require.NoError(t, err)
	}
	s := c.Stats()
	require.Equal(t, 2, s.Entries)
	require.Equal(t, uint64(2), s.Evictions, "C evicted A, then A evicted B")
	require.EqualValues(t, 2, evicted.Load())
	require.EqualValues(t, 4, f.calls.Load())
}

func TestPanicBecomesError(t *testing.T) {
	c := newCache(t, panicky{&fake{}}, cache.Config{})
	_, err := c.Businesses(context.Background())
	require.Error(t, err)
	require.False(t, errors.Is(err, covage.ErrUnavailable))
}

type panicky struct{ *fake }

func (panicky) Businesses(context.Context) ([]*domain.Business, error) { panic("boom") }

func TestNewValidates(t *testing.T) {
	_, err := cache.New(nil, cache.Config{})
	require.Error(t, err)
	_, err = cache.New(&fake{}, cache.Config{TTL: map[string]time.Duration{"enni": -1}})
	require.Error(t, err)
}

// TestReads checks what a request's reads vouch for: entries read from the
// cache (fetched or hit) while they stay the fresh entry of their key, and
// nothing once a read bypassed the cache or failed.
func TestReads(t *testing.T) {
	f := &fake{}
	c := newCache(t, f, cache.Config{DefaultTTL: time.Hour, TTL: map[string]time.Duration{covage.EndpointProject: 0}})
	ctx := as(context.Background(), "alice")

	rctx, reads := cache.WithReads(ctx)
	ref(t)(c.Ennis(rctx, domain.EnniFilter{})) // fetched and stored
	ref(t)(c.Ennis(rctx, domain.EnniFilter{})) // hit
	require.True(t, reads.Seal())
	require.True(t, reads.Current())
	ref(t)(c.Ennis(rctx, domain.EnniFilter{}))
	require.True(t, reads.Current(), "reads after Seal are ignored")

	uncached, r2 := cache.WithReads(ctx)
	_, err := c.Projects(uncached, domain.ProjectFilter{}) // TTL 0
	require.NoError(t, err)
	require.False(t, r2.Seal(), "a read the cache does not keep vouches for nothing")

	f.fail(errors.New("boom"))
	failed, r3 := cache.WithReads(ctx)
	short := "X"
	_, err = c.Ennis(failed, domain.EnniFilter{ShortName: &short})
	require.Error(t, err)
	require.False(t, r3.Seal())
	f.heal()

	short2 := "ACME"
	expiring := newCache(t, f, cache.Config{DefaultTTL: 30 * time.Millisecond})
	ectx, r4 := cache.WithReads(ctx)
	ref(t)(expiring.Ennis(ectx, domain.EnniFilter{ShortName: &short2}))
	require.True(t, r4.Seal())
	require.True(t, r4.Current())
	time.Sleep(40 * time.Millisecond)
	require.False(t, r4.Current(), "an expired entry no longer vouches")
}

package cache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/redistest"
	"github.com/covage/gateway/internal/shared"
)

// l2 is one real Redis and a direct client to look into it.
type l2 struct {
	srv *redistest.Server
	rc  *redis.Client
}

func newL2(t *testing.T) *l2 {
	t.Helper()
	srv := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	return &l2{srv: srv, rc: rc}
}

// replica is a cache with its own in-process level over the shared one:
// what one gateway process holds.
func (l *l2) replica(t *testing.T, up cache.Upstream, sc cache.SharedConfig) *cache.Cache {
	t.Helper()
	r, err := shared.New(shared.Config{URL: l.srv.URL(), Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	sc.Level = shared.NewCache(r, sc.MaxValueBytes)
	return newCache(t, up, cache.Config{Shared: sc})
}

// valueKey returns the Redis key of alice's unfiltered enni list, learning
// the codec version from a value stored for "probe".
func (l *l2) valueKey(t *testing.T, c *cache.Cache) string {
	t.Helper()
	ref(t)(c.Ennis(as(context.Background(), "probe"), domain.EnniFilter{}))
	// The value is stored after the caller has it: wait for it to land.
	var keys []string
	for deadline := time.Now().Add(5 * time.Second); len(keys) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var err error
		keys, err = l.rc.Keys(context.Background(), "covage:cache:*id:probe|}").Result()
		require.NoError(t, err)
	}
	require.Len(t, keys, 1)
	return strings.Replace(keys[0], "id:probe", "id:alice", 1)
}

// TestSharedLeaseHolderDies: a replica that took the lease and died leaves
// it to expire; the waiting replica then fetches, once, itself.
func TestSharedLeaseHolderDies(t *testing.T) {
	l := newL2(t)
	f := &fake{started: make(chan struct{}, 4)}
	c := l.replica(t, f, cache.SharedConfig{LeaseTTL: 3 * time.Second})
	key := l.valueKey(t, c)
	f.waitStart(t)
	ctx := context.Background()
	require.NoError(t, l.rc.Set(ctx, key+":lease", "dead-holder", 300*time.Millisecond).Err())
	f.gate = make(chan struct{}) // alice's call waits while the test looks

	got := make(chan string, 1)
	go func() {
		list, err := c.Ennis(as(ctx, "alice"), domain.EnniFilter{})
		if err != nil || len(list) != 1 {
			got <- "error"
			return
		}
		got <- list[0].Reference
	}()
	f.waitStart(t)
	// The call could only start once the dead holder's lease had gone: the
	// lease now is the waiter's own.
	lease, err := l.rc.Get(ctx, key+":lease").Result()
	require.NoError(t, err)
	require.NotEqual(t, "dead-holder", lease)
	close(f.gate)
	require.Equal(t, "id:alice", <-got)
	require.EqualValues(t, 2, f.calls.Load(), "the probe, then alice's one call")
}

// TestSharedLeaseHolderFails: a holder whose fetch fails marks its lease
// failed, so a waiting replica fetches at once instead of waiting for the
// lease to expire.
func TestSharedLeaseHolderFails(t *testing.T) {
	l := newL2(t)
	holder := &fake{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	waiter := &fake{started: make(chan struct{}, 1)}
	// Leases far longer than the test's deadline: only the failure mark
	// can release the waiter in time.
	sc := cache.SharedConfig{LeaseTTL: time.Minute}
	a, b := l.replica(t, holder, sc), l.replica(t, waiter, sc)
	ctx := as(context.Background(), "alice")

	aErr := make(chan error, 1)
	go func() {
		_, err := a.Ennis(ctx, domain.EnniFilter{})
		aErr <- err
	}()
	holder.waitStart(t)
	bGot := make(chan string, 1)
	go func() {
		list, err := b.Ennis(ctx, domain.EnniFilter{})
		if err != nil || len(list) != 1 {
			bGot <- "error"
			return
		}
		bGot <- list[0].Reference
	}()
	// b waits on a's lease: it has not called.
	time.Sleep(50 * time.Millisecond)
	require.Zero(t, waiter.calls.Load())

	holder.fail(&covage.Error{Kind: covage.ErrUnavailable})
	close(holder.gate)
	require.ErrorIs(t, <-aErr, covage.ErrUnavailable)
	select {
	case r := <-bGot:
		require.Equal(t, "id:alice", r)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter kept waiting for a failed holder")
	}
	require.EqualValues(t, 1, waiter.calls.Load())
}

// TestSharedSizeCap: a value over the cap stays in memory only.
func TestSharedSizeCap(t *testing.T) {
	l := newL2(t)
	f := &fake{}
	sc := cache.SharedConfig{MaxValueBytes: 8}
	a, b := l.replica(t, f, sc), l.replica(t, f, sc)
	ctx := as(context.Background(), "a-long-enough-name")
	ref(t)(a.Ennis(ctx, domain.EnniFilter{}))
	ref(t)(b.Ennis(ctx, domain.EnniFilter{}))
	require.EqualValues(t, 2, f.calls.Load(), "nothing shared")
	keys, err := l.rc.Keys(context.Background(), "covage:cache:*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		require.True(t, strings.HasSuffix(k, ":lease"), "no value stored: %s", k)
	}
}

// TestSharedCorruptValue: a value that does not decode is a miss, and the
// fetched value replaces it.
func TestSharedCorruptValue(t *testing.T) {
	l := newL2(t)
	f := &fake{}
	a := l.replica(t, f, cache.SharedConfig{})
	key := l.valueKey(t, a)
	ctx := context.Background()
	require.NoError(t, l.rc.HSet(ctx, key, "t", time.Now().UnixMilli(), "d", "\x05garbage").Err())
	b := l.replica(t, f, cache.SharedConfig{})
	require.Equal(t, "id:alice", ref(t)(b.Ennis(as(ctx, "alice"), domain.EnniFilter{})))
	require.EqualValues(t, 2, f.calls.Load(), "the probe, then alice's call")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if d, _ := l.rc.HGet(ctx, key, "d").Result(); d != "\x05garbage" {
			break // b's value has landed
		}
	}
	c := l.replica(t, f, cache.SharedConfig{})
	require.Equal(t, "id:alice", ref(t)(c.Ennis(as(ctx, "alice"), domain.EnniFilter{})))
	require.EqualValues(t, 2, f.calls.Load(), "the good value replaced the corrupt one")
}

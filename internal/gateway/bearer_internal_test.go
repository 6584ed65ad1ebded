package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
)

// TestBearerVerifier checks the pass-through verdicts with a stepped clock:
// an accepted token is asked about again after a minute, a refused one is
// refused without asking for 30 s and its cached data is dropped, and an
// outage lets the request through without a verdict.
func TestBearerVerifier(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	answers := map[covage.Secret]error{"good": nil, "bad": &covage.Error{Kind: covage.ErrUnauthenticated}}
	var amu sync.Mutex
	calls := map[covage.Secret]int{}
	var forgotten atomic.Int64
	check := func(ctx context.Context) error {
		tok := tokenOf(ctx)
		amu.Lock()
		defer amu.Unlock()
		calls[tok]++
		return answers[tok]
	}
	setAnswer := func(tok covage.Secret, err error) { amu.Lock(); answers[tok] = err; amu.Unlock() }
	callsOf := func(tok covage.Secret) int { amu.Lock(); defer amu.Unlock(); return calls[tok] }
	v := newBearerVerifier(check, func(context.Context) { forgotten.Add(1) }, clock)
	verify := func(tok covage.Secret) error {
		ctx := context.WithValue(covage.WithBearer(context.Background(), tok), testTokenKey{}, tok)
		return v.verify(ctx, tok)
	}

	// A flood of one bad token, concurrently: one call to Covage.
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { require.ErrorIs(t, verify("bad"), errBearerRefused) })
	}
	wg.Wait()
	require.Equal(t, 1, callsOf("bad"), "a flood of one bad token costs one call")
	step(bearerRefusedFor - time.Second)
	require.ErrorIs(t, verify("bad"), errBearerRefused)
	require.Equal(t, 1, callsOf("bad"))
	step(time.Second)
	require.ErrorIs(t, verify("bad"), errBearerRefused)
	require.Equal(t, 2, callsOf("bad"), "asked again after the interval")

	// A good token: asked once, then again after a minute.
	require.NoError(t, verify("good"))
	step(bearerRecheck - time.Second)
	require.NoError(t, verify("good"))
	require.Equal(t, 1, callsOf("good"))
	step(time.Second)
	require.NoError(t, verify("good"))
	require.Equal(t, 2, callsOf("good"), "re-verified at least every minute")

	// Covage revokes it: at the next re-verification it is refused, and
	// what the cache held for it is dropped.
	forgottenBefore := forgotten.Load()
	setAnswer("good", &covage.Error{Kind: covage.ErrUnauthenticated})
	step(bearerRecheck)
	require.ErrorIs(t, verify("good"), errBearerRefused)
	require.Equal(t, forgottenBefore+1, forgotten.Load())

	// An outage: the request goes on (its own calls will fail or be served
	// stale), nothing is remembered, so the next request asks again.
	setAnswer("flaky", &covage.Error{Kind: covage.ErrUnavailable})
	require.NoError(t, verify("flaky"))
	require.NoError(t, verify("flaky"))
	require.Equal(t, 2, callsOf("flaky"))
}

// testTokenKey carries the token in the test's contexts, so the fake
// check can read it without the covage client's private key.
type testTokenKey struct{}

func tokenOf(ctx context.Context) covage.Secret {
	tok, _ := ctx.Value(testTokenKey{}).(covage.Secret)
	return tok
}

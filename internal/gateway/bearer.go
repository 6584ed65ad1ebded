package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/covage/gateway/internal/covage"
)

// Pass-through token verdicts. A token Covage accepted is asked about
// again after bearerRecheck, so cached data is never served to a token
// Covage stopped accepting more than a minute ago; a refused one is refused
// here for bearerRefusedFor without asking, so a flood of bad tokens costs
// Covage one call per token and interval.
const (
	bearerRecheck    = time.Minute
	bearerRefusedFor = 30 * time.Second
	bearerVerdicts   = 10000
)

// errBearerRefused is the refusal remembered for a token.
var errBearerRefused = errors.New("Covage refused this bearer token")

// bearerVerifier remembers, by SHA-256 digest only, what Covage said of
// each pass-through token, and asks it again when the verdict is old.
type bearerVerifier struct {
	// check asks Covage, with one uncached call, whether the token in ctx
	// is accepted (covage.Client.VerifyBearer).
	check func(ctx context.Context) error
	// forget drops what the shared cache holds for the token in ctx.
	forget func(ctx context.Context)
	now    func() time.Time

	group    singleflight.Group
	verdicts *lru.Cache[[sha256.Size]byte, verdict] // safe for concurrent use
}

type verdict struct {
	accepted bool
	at       time.Time
}

func newBearerVerifier(check func(context.Context) error, forget func(context.Context), now func() time.Time) *bearerVerifier {
	if forget == nil {
		forget = func(context.Context) {}
	}
	if now == nil {
		now = time.Now
	}
	v, _ := lru.New[[sha256.Size]byte, verdict](bearerVerdicts) // only fails for a size <= 0
	return &bearerVerifier{check: check, forget: forget, now: now, verdicts: v}
}

// verify answers errBearerRefused for a token Covage refused, nil for one
// it accepted recently or that could not be checked because Covage is
// down (its cached data, if any, was never refused: a refusal drops it).
func (b *bearerVerifier) verify(ctx context.Context, token covage.Secret) error {
	id := sha256.Sum256([]byte(token.Reveal()))
	if known, err := b.remembered(id); known {
		return err
	}
	// Concurrent requests with the same token share one check, which the
	// first caller's cancellation does not cancel for the others.
	res, _, _ := b.group.Do(string(id[:]), func() (any, error) {
		// A check that finished between this caller's look and now has
		// left a fresh verdict: use it rather than ask again.
		if known, err := b.remembered(id); known {
			return err, nil
		}
		err := b.check(context.WithoutCancel(ctx))
		switch {
		case err == nil:
			b.put(id, verdict{accepted: true, at: b.now()})
		case errors.Is(err, covage.ErrUnauthenticated):
			b.put(id, verdict{accepted: false, at: b.now()})
			b.forget(ctx)
			return errBearerRefused, nil
		}
		return nil, nil
	})
	if err, ok := res.(error); ok {
		return err
	}
	return nil
}

// remembered returns the verdict on the token while it holds: known with a
// nil error for an acceptance younger than bearerRecheck, known with
// errBearerRefused for a refusal younger than bearerRefusedFor.
func (b *bearerVerifier) remembered(id [sha256.Size]byte) (known bool, err error) {
	v, found := b.verdicts.Get(id)
	if !found {
		return false, nil
	}
	age := b.now().Sub(v.at)
	switch {
	case v.accepted && age < bearerRecheck:
		return true, nil
	case !v.accepted && age < bearerRefusedFor:
		return true, errBearerRefused
	}
	return false, nil
}

func (b *bearerVerifier) put(id [sha256.Size]byte, v verdict) { b.verdicts.Add(id, v) }

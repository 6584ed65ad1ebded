package shared

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// APQ is the store of automatic persisted queries (gqlgen's
// graphql.Cache[string]) shared by replicas: the replica's own bounded
// cache in front, Redis behind it, so a hash registered through one
// replica is served by every other. Entries expire ttl after their last
// registration.
//
// A query text is not tenant data: it is only a query, run with the
// credential of whoever sends its hash. Redis's answer is still checked:
// a text whose SHA-256 is not the hash is ignored, so a tampered Redis
// cannot make a hash run another query.
type APQ struct {
	local graphql.Cache[string]
	r     *Redis
	ttl   time.Duration
	max   int
}

var _ graphql.Cache[string] = (*APQ)(nil)

// NewAPQ returns the shared store over r with local in front. Texts over
// maxBytes are kept locally only.
func NewAPQ(r *Redis, local graphql.Cache[string], ttl time.Duration, maxBytes int) *APQ {
	return &APQ{local: local, r: r, ttl: ttl, max: maxBytes}
}

// validHash reports whether key is a SHA-256 in lower-case hex, the only
// keys APQ stores (gqlgen checks the hash against the text before Add).
func validHash(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	for i := range len(key) {
		if c := key[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Get implements graphql.Cache.
func (a *APQ) Get(ctx context.Context, key string) (string, bool) {
	if q, ok := a.local.Get(ctx, key); ok {
		return q, true
	}
	if !validHash(key) {
		return "", false
	}
	var q string
	err := a.r.Do(ctx, "apq_get", func(ctx context.Context, c redis.UniversalClient) error {
		var err error
		q, err = c.Get(ctx, a.r.Key("apq", key)).Result()
		return err
	})
	if err != nil || len(q) > a.max {
		return "", false
	}
	if sum := sha256.Sum256([]byte(q)); hex.EncodeToString(sum[:]) != key {
		return "", false
	}
	a.local.Add(ctx, key, q)
	return q, true
}

// Add implements graphql.Cache.
func (a *APQ) Add(ctx context.Context, key, query string) {
	a.local.Add(ctx, key, query)
	if !validHash(key) || len(query) > a.max {
		return
	}
	_ = a.r.Do(ctx, "apq_set", func(ctx context.Context, c redis.UniversalClient) error {
		err := c.Set(ctx, a.r.Key("apq", key), query, a.ttl).Err()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
}

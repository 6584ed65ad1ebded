package shared

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/covage/gateway/internal/cache"
)

// Cache is the cache's second level (cache.Shared) in Redis. A value is a
// hash {t: fetch time in Unix milliseconds, d: encoded value} under
// <prefix>:cache:{<name>}, expiring after its fresh and stale time; its
// lease is <prefix>:cache:{<name>}:lease. The braces make both keys one
// hash slot, so the scripts below work on Redis Cluster too.
type Cache struct {
	r       *Redis
	maxData int
}

var _ cache.Shared = (*Cache)(nil)

// NewCache returns the second level over r. Values read back larger than
// maxBytes are ignored (a value larger than the cap was never written by
// a gateway).
func NewCache(r *Redis, maxBytes int) *Cache {
	if maxBytes <= 0 {
		maxBytes = cache.DefaultMaxValueBytes
	}
	return &Cache{r: r, maxData: maxBytes}
}

func (c *Cache) keys(name string) []string {
	k := c.r.Key("cache", "{"+name+"}")
	return []string{k, k + ":lease"}
}

// failedLease is the lease's value after a failed fetch.
const failedLease = "!"

// claimScript takes the lease when the value is not fresh and no one
// holds it. It returns 0 when the value has become fresh, 1 when the lease
// is won, 2 when another holds it, 3 when the last holder failed. ARGV:
// freshAfter ms, token, lease ms. It reads only the fetch time: the value
// itself is read with a plain HMGET, which costs Redis a quarter of what
// copying it through Lua does.
var claimScript = redis.NewScript(`
local t = redis.call('HGET', KEYS[1], 't')
if t and tonumber(t) > tonumber(ARGV[1]) then return 0 end
local l = redis.call('GET', KEYS[2])
if l == '` + failedLease + `' then return 3 end
if l then return 2 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`)

// storeScript writes the value unless a newer one is there, and releases
// the lease held by token. ARGV: t ms, data, keep ms, token.
var storeScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], 't')
if not old or tonumber(old) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 't', ARGV[1], 'd', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
return 1
`)

// releaseScript marks token's lease failed for ARGV[2] ms.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], '` + failedLease + `', 'PX', ARGV[2]) end
return 1
`)

// extendScript extends token's lease to ARGV[2] ms.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`)

// Claim implements cache.Shared: one HMGET, which answers a fresh value,
// then, when the value is not fresh, the claim script. Both share one
// timeout, so a Redis that turns slow between them costs a lookup no more
// than one.
func (c *Cache) Claim(ctx context.Context, name string, freshAfter time.Time, withStale bool, token string, leaseTTL time.Duration) (cache.Claim, error) {
	keys := c.keys(name)
	deadline := time.Now().Add(c.r.timeout)
	// Twice at most: the value may turn fresh between the two calls.
	for range 2 {
		var vals []any
		err := c.r.do(ctx, deadline, "cache_get", func(ctx context.Context, rc redis.UniversalClient) error {
			var err error
			vals, err = rc.HMGet(ctx, keys[0], "t", "d").Result()
			return err
		})
		if err != nil {
			return cache.Claim{}, err
		}
		cl, err := c.parseValue(vals, freshAfter)
		if err != nil || cl.Fresh {
			return cl, err
		}
		if !withStale {
			cl.Data, cl.Fetched = nil, time.Time{}
		}
		var state int64
		err = c.r.do(ctx, deadline, "cache_claim", func(ctx context.Context, rc redis.UniversalClient) error {
			var err error
			state, err = claimScript.Run(ctx, rc, keys, freshAfter.UnixMilli(), token, leaseTTL.Milliseconds()).Int64()
			return err
		})
		if err != nil {
			return cache.Claim{}, err
		}
		switch state {
		case 0:
			continue
		case 1:
			cl.Lease = cache.LeaseWon
		case 2:
			cl.Lease = cache.LeaseBusy
		case 3:
			cl.Lease = cache.LeaseFailed
		default:
			return cache.Claim{}, errors.New("redis: unexpected claim answer")
		}
		return cl, nil
	}
	return cache.Claim{Lease: cache.LeaseBusy}, nil
}

// parseValue checks Redis's answer to HMGET t d: it is input from outside.
// A missing or oversized value, or one without a time, is no value.
func (c *Cache) parseValue(vals []any, freshAfter time.Time) (cache.Claim, error) {
	if len(vals) != 2 {
		return cache.Claim{}, errors.New("redis: unexpected HMGET answer")
	}
	ts, ok1 := vals[0].(string)
	data, ok2 := vals[1].(string)
	if !ok1 || !ok2 || data == "" || len(data) > c.maxData {
		return cache.Claim{}, nil
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return cache.Claim{}, nil
	}
	fetched := time.UnixMilli(ms)
	return cache.Claim{Data: []byte(data), Fetched: fetched, Fresh: ms > freshAfter.UnixMilli()}, nil
}

// Store implements cache.Shared.
func (c *Cache) Store(ctx context.Context, name string, data []byte, fetched time.Time, keep time.Duration, token string) error {
	if keep < time.Millisecond {
		return fmt.Errorf("redis: keep %s is too short", keep)
	}
	return c.r.Do(ctx, "cache_store", func(ctx context.Context, rc redis.UniversalClient) error {
		return storeScript.Run(ctx, rc, c.keys(name), fetched.UnixMilli(), data, keep.Milliseconds(), token).Err()
	})
}

// Release implements cache.Shared.
func (c *Cache) Release(ctx context.Context, name, token string, failTTL time.Duration) error {
	return c.r.Do(ctx, "cache_release", func(ctx context.Context, rc redis.UniversalClient) error {
		return releaseScript.Run(ctx, rc, c.keys(name)[1:], token, failTTL.Milliseconds()).Err()
	})
}

// Extend implements cache.Shared.
func (c *Cache) Extend(ctx context.Context, name, token string, leaseTTL time.Duration) error {
	return c.r.Do(ctx, "cache_extend", func(ctx context.Context, rc redis.UniversalClient) error {
		return extendScript.Run(ctx, rc, c.keys(name)[1:], token, leaseTTL.Milliseconds()).Err()
	})
}

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

// claimScript returns {state, t, d}: state 0 fresh, 1 lease won, 2 busy,
// 3 failed. ARGV: freshAfter ms, withStale, token, lease ms.
var claimScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 't', 'd')
local t = v[1] or ''
if v[1] and tonumber(v[1]) > tonumber(ARGV[1]) then return {0, t, v[2] or ''} end
local d = ''
if ARGV[2] == '1' then d = v[2] or '' end
local l = redis.call('GET', KEYS[2])
if l == '` + failedLease + `' then return {3, t, d} end
if l then return {2, t, d} end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return {1, t, d}
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

// Claim implements cache.Shared.
func (c *Cache) Claim(ctx context.Context, name string, freshAfter time.Time, withStale bool, token string, leaseTTL time.Duration) (cache.Claim, error) {
	var res []any
	ws := "0"
	if withStale {
		ws = "1"
	}
	err := c.r.Do(ctx, "cache_claim", func(ctx context.Context, rc redis.UniversalClient) error {
		var err error
		res, err = claimScript.Run(ctx, rc, c.keys(name), freshAfter.UnixMilli(), ws, token, leaseTTL.Milliseconds()).Slice()
		return err
	})
	if err != nil {
		return cache.Claim{}, err
	}
	return c.parseClaim(res)
}

// parseClaim checks Redis's answer: it is input from outside.
func (c *Cache) parseClaim(res []any) (cache.Claim, error) {
	bad := errors.New("redis: unexpected claim answer")
	if len(res) != 3 {
		return cache.Claim{}, bad
	}
	state, ok1 := res[0].(int64)
	ts, ok2 := res[1].(string)
	data, ok3 := res[2].(string)
	if !ok1 || !ok2 || !ok3 || state < 0 || state > 3 {
		return cache.Claim{}, bad
	}
	var cl cache.Claim
	switch state {
	case 0:
		cl.Fresh = true
	case 1:
		cl.Lease = cache.LeaseWon
	case 2:
		cl.Lease = cache.LeaseBusy
	case 3:
		cl.Lease = cache.LeaseFailed
	}
	if data != "" && ts != "" && len(data) <= c.maxData {
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return cache.Claim{}, bad
		}
		cl.Data, cl.Fetched = []byte(data), time.UnixMilli(ms)
	} else if cl.Fresh {
		// A fresh marker without a usable value: treat as missing, and
		// do not claim (the next lookup will).
		cl.Fresh, cl.Lease = false, cache.LeaseFailed
	}
	return cl, nil
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

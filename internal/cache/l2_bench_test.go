package cache_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/redistest"
	"github.com/covage/gateway/internal/shared"
)

// BenchmarkSharedLevels is what one lookup of the 2,000-door list costs
// from each level, side by side in one run, through the real Covage client
// against the demo upstream on loopback (no added latency) and a real
// redis-server:
//
//	l1_hit        a fresh value in the process's own cache
//	l2_hit        the process's cache misses, Redis has the value
//	covage_call   no cache: an HTTP call and its JSON decoding
//	miss/redis=…  a key no level has (a new filter each time): the fetch,
//	              with and without Redis's claim and store around it
func BenchmarkSharedLevels(b *testing.B) {
	srv := redistest.Start(b)
	up := httptest.NewServer(demo.New(demo.Generate(500, 2000, 50)))
	b.Cleanup(up.Close)
	client, err := covage.New(covage.Config{BaseURL: up.URL, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	r, err := shared.New(shared.Config{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	withRedis := cache.SharedConfig{Level: shared.NewCache(r, 0)}
	ctx := context.Background()
	all := domain.EnniFilter{}

	newC := func(cfg cache.Config) *cache.Cache {
		c, err := cache.New(client, cfg)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	lookup := func(b *testing.B, c *cache.Cache, f domain.EnniFilter) {
		list, err := c.Ennis(ctx, f)
		if err != nil || len(list) == 0 {
			b.Fatal(err, len(list))
		}
	}

	b.Run("l1_hit", func(b *testing.B) {
		c := newC(cache.Config{Shared: withRedis})
		lookup(b, c, all)
		for b.Loop() {
			lookup(b, c, all)
		}
	})
	b.Run("l2_hit", func(b *testing.B) {
		// One entry in the process's cache, two keys read in turn: every
		// lookup misses it and finds its value in Redis.
		c := newC(cache.Config{MaxEntries: 1, Shared: withRedis})
		active, on := all, true
		active.Active = &on
		lookup(b, c, all)
		lookup(b, c, active)
		i := 0
		for b.Loop() {
			if i++; i%2 == 0 {
				lookup(b, c, all)
			} else {
				lookup(b, c, active)
			}
		}
		rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer rc.Close()
		keys, _ := rc.Keys(ctx, "covage:cache:*enni|none|}").Result()
		if len(keys) == 1 {
			n, _ := rc.HStrLen(ctx, keys[0], "d").Result()
			b.ReportMetric(float64(n), "value-bytes")
		}
	})
	b.Run("covage_call", func(b *testing.B) {
		c := newC(cache.Config{TTL: map[string]time.Duration{covage.EndpointEnni: 0}})
		for b.Loop() {
			lookup(b, c, all)
		}
	})
	for _, redisOn := range []bool{false, true} {
		b.Run(fmt.Sprintf("miss/redis=%v", redisOn), func(b *testing.B) {
			cfg := cache.Config{}
			if redisOn {
				cfg.Shared = withRedis
			}
			c := newC(cfg)
			i := 0
			for b.Loop() {
				// A client code no one asked for: every level misses, and
				// the demo answers an empty list quickly.
				i++
				code := "bench-" + strconv.Itoa(i) + "-" + strconv.FormatBool(redisOn) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
				if _, err := c.Ennis(ctx, domain.EnniFilter{ShortName: &code}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

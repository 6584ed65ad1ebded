package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/shared"
	"github.com/covage/gateway/internal/telemetry"
)

// connectRedis builds the connection the replicas share state through, or
// returns nil without REDIS_URL. It does not wait for Redis: a Redis that
// is down at start is joined when it appears.
func connectRedis(cfg config.Config, log *slog.Logger, m *telemetry.Metrics) (*shared.Redis, error) {
	rc := cfg.Redis
	if !rc.Enabled() {
		return nil, nil
	}
	// go-redis logs every failed dial on its own; the gateway logs one
	// line per change of Redis's state, so the library's lines go to debug.
	redis.SetLogger(redisLog{log})
	ops := telemetry.NewRedisOps(m)
	return shared.New(shared.Config{
		URL:     rc.URL.Reveal(),
		Mode:    rc.Mode,
		Timeout: rc.Timeout,
		Prefix:  rc.Prefix,
		Logger:  log,
		OnOp:    ops.Observe,
	})
}

// sharedLevel is the cache's second level in r, or none when r is nil.
// Its events count in gateway_cache_events_total as shared_hit,
// shared_miss, shared_wait, shared_stale…
func sharedLevel(cfg config.Config, r *shared.Redis, m *telemetry.Metrics) cache.SharedConfig {
	if r == nil {
		return cache.SharedConfig{}
	}
	return cache.SharedConfig{
		Level:         shared.NewCache(r, cfg.Redis.MaxValueBytes),
		LeaseTTL:      cfg.Redis.LeaseTTL,
		MaxValueBytes: cfg.Redis.MaxValueBytes,
		OnEvent:       func(endpoint, event string) { m.CacheEvent(endpoint, "shared_"+event) },
	}
}

// shareSecurity makes persisted queries and the rate limit global through
// r; without r they stay per replica.
func shareSecurity(cfg config.Config, r *shared.Redis, s *gateway.Security) {
	if r == nil {
		return
	}
	s.APQCache = shared.NewAPQ(r, lru.New[string](cfg.Security.APQCacheSize), cfg.Redis.APQTTL, int(cfg.Security.MaxBodyBytes))
	if s.RateLimit.RPS > 0 {
		s.GlobalRateLimit = shared.NewRateLimit(r, s.RateLimit.RPS, s.RateLimit.Burst)
	}
}

// redisLog writes go-redis's own log lines at debug level.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

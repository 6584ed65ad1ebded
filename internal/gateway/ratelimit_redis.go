package gateway

import (
	"context"
	"time"
)

// fallbackLimiter decides with the limiter every replica shares
// (shared.RateLimit, in Redis) and, when that one cannot decide, with this
// replica's own buckets: a Redis outage neither refuses every request nor
// lets every request through.
type fallbackLimiter struct {
	global, local Limiter
}

// withFallback returns global backed by in-process buckets configured
// by c.
func withFallback(global Limiter, c RateLimit) Limiter {
	return fallbackLimiter{global: global, local: newLocalLimiter(c.withDefaults())}
}

func (f fallbackLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, wait, err := f.global.Allow(ctx, key)
	if err != nil {
		return f.local.Allow(ctx, key)
	}
	return ok, wait, nil
}

package shared

import (
	"context"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RateLimit is the per-client rate limit shared by every replica: GCRA
// (generic cell rate algorithm) in Redis through go-redis/redis_rate, so a
// client gets one budget whatever replica it reaches.
type RateLimit struct {
	r     *Redis
	lim   *redis_rate.Limiter
	limit redis_rate.Limit
}

// NewRateLimit allows each client rps requests per second with bursts of
// burst.
func NewRateLimit(r *Redis, rps float64, burst int) *RateLimit {
	// redis_rate spaces requests Period/Rate apart; a period of 1000 s
	// keeps fractional rates (0.5 per second is 500 per 1000 s).
	rate := max(1, int(math.Round(rps*1000)))
	return &RateLimit{
		r:     r,
		lim:   redis_rate.NewLimiter(r.client),
		limit: redis_rate.Limit{Rate: rate, Period: 1000 * time.Second, Burst: max(burst, 1)},
	}
}

// Allow spends one request of key's budget. It reports whether the request
// may go and, when not, how long to wait; an error means Redis could not
// decide, and the caller falls back to its local limiter.
func (l *RateLimit) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	var res *redis_rate.Result
	err := l.r.Do(ctx, "ratelimit", func(ctx context.Context, _ redis.UniversalClient) error {
		var err error
		res, err = l.lim.Allow(ctx, l.r.Key("ratelimit", key), l.limit)
		return err
	})
	if err != nil {
		return false, 0, err
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

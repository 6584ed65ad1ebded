package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// GlobalRateLimiter decides the rate limit for every replica at once
// (shared.RateLimit, in Redis). An error means it could not decide: the
// replica's local limiter decides instead, so a Redis outage never refuses
// or lets through everything.
type GlobalRateLimiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// globalRateLimit answers 429 with Retry-After to a client past its global
// budget, lets the others through to next, and hands requests to local (the
// local limiter in front of next) when global cannot decide.
func globalRateLimit(global GlobalRateLimiter, c RateLimit, next, local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := global.Allow(r.Context(), clientKey(r))
		switch {
		case err != nil:
			local.ServeHTTP(w, r)
		case ok:
			next.ServeHTTP(w, r)
		default:
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, CodeTooManyRequests,
				fmt.Sprintf("too many requests: the limit is %g per second with bursts of %d; retry in %d s", c.RPS, c.Burst, secs))
		}
	})
}

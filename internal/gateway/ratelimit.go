package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/covage/gateway/internal/auth"
)

// RateLimit is the per-client token bucket. A zero RPS turns it off.
type RateLimit struct {
	// RPS is the sustained requests per second each client may make.
	RPS float64
	// Burst is how many requests a client may make at once.
	Burst int
	// Clients bounds how many clients are tracked; the least recently seen
	// is forgotten first, so memory stays bounded whatever the traffic.
	Clients int
	// Limiter, when set, decides instead of the in-process buckets (a
	// limiter shared by every replica, for instance). RPS and Burst are
	// then only quoted in the 429's message.
	Limiter Limiter
	// Now is the in-process buckets' clock; time.Now when nil. Tests
	// freeze it so that no refill happens between their requests.
	Now func() time.Time
}

// Limiter decides whether the client named key may make one more request
// now. When it may not, retryAfter says when it may. An error lets the
// request through: a limiter that is down must not take the gateway down.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// localLimiter keeps one token bucket per client in this process.
type localLimiter struct {
	now     func() time.Time
	limit   rate.Limit
	burst   int
	mu      sync.Mutex
	clients *lru.Cache[string, *rate.Limiter]
}

func newLocalLimiter(c RateLimit) *localLimiter {
	if c.Clients <= 0 {
		c.Clients = 10000
	}
	cache, _ := lru.New[string, *rate.Limiter](c.Clients) // only fails for a size <= 0
	if c.Now == nil {
		c.Now = time.Now
	}
	return &localLimiter{now: c.Now, limit: rate.Limit(c.RPS), burst: c.Burst, clients: cache}
}

func (l *localLimiter) limiter(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients.Add(key, lim)
	}
	return lim
}

// Allow takes a token from key's bucket.
func (l *localLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	now := l.now()
	res := l.limiter(key).ReserveN(now, 1)
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		return false, delay, nil
	}
	return true, 0, nil
}

// rateLimiter answers 429 with Retry-After to a client past its budget.
type rateLimiter struct {
	cfg     RateLimit
	limiter Limiter
	address clientAddress
	log     *slog.Logger
}

// withDefaults gives a zero Burst its default: the RPS, rounded up.
func (c RateLimit) withDefaults() RateLimit {
	if c.Burst <= 0 {
		c.Burst = max(1, int(math.Ceil(c.RPS)))
	}
	return c
}

func newRateLimiter(c RateLimit, address clientAddress, log *slog.Logger) *rateLimiter {
	c = c.withDefaults()
	l := c.Limiter
	if l == nil {
		l = newLocalLimiter(c)
	}
	return &rateLimiter{cfg: c, limiter: l, address: address, log: log}
}

func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, delay, err := l.limiter.Allow(r.Context(), l.key(r))
		if err != nil {
			l.log.WarnContext(r.Context(), "rate limiter failed, letting the request through", "err", err)
			ok = true
		}
		if !ok {
			secs := max(1, int(math.Ceil(delay.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, CodeTooManyRequests,
				fmt.Sprintf("too many requests: the limit is %g per second with bursts of %d; retry in %d s", l.cfg.RPS, l.cfg.Burst, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// key names the client: the authenticated caller when there is one, else
// its address. Nothing the client sends unauthenticated (an Authorization
// header, a forwarding header from an untrusted peer) changes the key, so
// made-up credentials buy no new budget.
func (l *rateLimiter) key(r *http.Request) string {
	if c, _, ok := auth.Outcome(r.Context()); ok {
		return "caller:" + c.Key()
	}
	return addressKey(l.address.of(r))
}

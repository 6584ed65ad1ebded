package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/rs/cors"
	"golang.org/x/time/rate"
)

// limitBody refuses bodies over max with 413: at once when Content-Length
// says so, and otherwise when reading passes the limit (the transport turns
// the reader's error into the 413).
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, bodyLimitMessage(max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

func bodyLimitMessage(max int64) string {
	return fmt.Sprintf("the request body is larger than the body limit of %d bytes", max)
}

// withDeadline bounds the whole request, upstream calls included: when it
// passes, pending calls are cancelled and their fields answer
// UPSTREAM_TIMEOUT.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// preventCSRF refuses the requests a browser sends cross-origin without a
// CORS preflight, as Apollo Server and Router do: a request whose
// Content-Type is missing or "simple" (text/plain,
// application/x-www-form-urlencoded, multipart/form-data), which includes
// every plain GET, must carry a non-empty Apollo-Require-Preflight or
// X-Apollo-Operation-Name header. A page on another origin can only set
// those after a preflight, which CORS then governs.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || !csrfable(r) ||
			r.Header.Get("Apollo-Require-Preflight") != "" || r.Header.Get("X-Apollo-Operation-Name") != "" {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusBadRequest, CodeCSRF,
			"this request has been blocked as a potential cross-site request forgery: send it with Content-Type: application/json, "+
				"or with a non-empty Apollo-Require-Preflight or X-Apollo-Operation-Name header")
	})
}

func csrfable(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

// withCORS answers preflights and sets CORS headers for the allowlisted
// origins only; with none, no CORS header is ever sent, so browsers keep
// other origins out. Credentials are allowed, which only ever applies to an
// allowlisted origin.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Content-Type", "Accept", "Authorization", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(next)
}

// RateLimit is the per-client token bucket. A zero RPS turns it off.
type RateLimit struct {
	// RPS is the sustained requests per second each client may make.
	RPS float64
	// Burst is how many requests a client may make at once.
	Burst int
	// Clients bounds how many clients are tracked; the least recently seen
	// is forgotten first, so memory stays bounded whatever the traffic.
	Clients int
}

type rateLimiter struct {
	limit   rate.Limit
	burst   int
	mu      sync.Mutex
	clients *lru.Cache[string, *rate.Limiter]
}

func newRateLimiter(c RateLimit) *rateLimiter {
	if c.Burst <= 0 {
		c.Burst = max(1, int(math.Ceil(c.RPS)))
	}
	if c.Clients <= 0 {
		c.Clients = 10000
	}
	cache, _ := lru.New[string, *rate.Limiter](c.Clients) // only fails for a size <= 0
	return &rateLimiter{limit: rate.Limit(c.RPS), burst: c.Burst, clients: cache}
}

func (l *rateLimiter) limiter(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients.Add(key, lim)
	}
	return lim
}

// middleware answers 429 with Retry-After to a client past its budget.
func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := l.limiter(clientKey(r)).Reserve()
		if delay := res.Delay(); delay > 0 {
			res.Cancel()
			secs := max(1, int(math.Ceil(delay.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, CodeTooManyRequests,
				fmt.Sprintf("too many requests: the limit is %g per second with bursts of %d; retry in %d s", float64(l.limit), l.burst, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientKey identifies the client: by a hash of its credential, so that the
// credential itself is never kept, or by its address when it sends none.
// The address is the connection's: put the gateway behind a proxy that
// sets it, or every client behind the proxy shares one budget.
func clientKey(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		sum := sha256.Sum256([]byte(auth))
		return "credential:" + hex.EncodeToString(sum[:16])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "address:" + host
}

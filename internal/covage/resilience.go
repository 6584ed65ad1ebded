package covage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
)

// ErrCircuitOpen reports that the endpoint's circuit breaker is open (or
// half-open with its probe already in flight), so the call failed fast
// without reaching Covage. It matches ErrUnavailable too, so callers that
// only know that sentinel treat it as an outage.
var ErrCircuitOpen error = kind("circuit open")

// Is makes ErrCircuitOpen match ErrUnavailable.
func (k kind) Is(target error) bool {
	return k == ErrCircuitOpen && target == ErrUnavailable
}

// Defaults for the resilience settings of Config.
const (
	// DefaultTimeout is Config.Timeout's.
	DefaultTimeout         = 10 * time.Second
	DefaultRetryBaseDelay  = 100 * time.Millisecond
	DefaultRetryMaxDelay   = 2 * time.Second
	DefaultMaxRetryAfter   = 5 * time.Second
	DefaultBreakerCooldown = 30 * time.Second
)

// retryPolicy holds the validated retry settings of a Client.
type retryPolicy struct {
	attempts      int
	baseDelay     time.Duration
	maxDelay      time.Duration
	maxRetryAfter time.Duration
}

func newRetryPolicy(cfg Config) retryPolicy {
	p := retryPolicy{
		attempts:      max(cfg.MaxAttempts, 1),
		baseDelay:     cfg.RetryBaseDelay,
		maxDelay:      cfg.RetryMaxDelay,
		maxRetryAfter: cfg.MaxRetryAfter,
	}
	if p.baseDelay <= 0 {
		p.baseDelay = DefaultRetryBaseDelay
	}
	if p.maxDelay <= 0 {
		p.maxDelay = DefaultRetryMaxDelay
	}
	if p.maxRetryAfter <= 0 {
		p.maxRetryAfter = DefaultMaxRetryAfter
	}
	return p
}

// newBreakers builds one circuit breaker per endpoint, or none when
// cfg.BreakerFailures is 0. The map is fixed after New, so reads need no
// lock.
func newBreakers(cfg Config) map[string]*gobreaker.CircuitBreaker[struct{}] {
	if cfg.BreakerFailures <= 0 {
		return nil
	}
	cooldown := cfg.BreakerCooldown
	if cooldown <= 0 {
		cooldown = DefaultBreakerCooldown
	}
	failures := uint32(cfg.BreakerFailures)
	m := make(map[string]*gobreaker.CircuitBreaker[struct{}], 7)
	for _, ep := range []string{EndpointProject, EndpointEnni, EndpointBusiness, EndpointBillingSite,
		EndpointTerminateReason, EndpointChangeReason, EndpointSiteConnection} {
		st := gobreaker.Settings{
			Name:        ep,
			MaxRequests: 1, // one half-open probe at a time
			Timeout:     cooldown,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			// Only upstream-health failures count; a 404, a 401 or a body
			// that does not decode says nothing about Covage's health.
			IsSuccessful: func(err error) bool { return err == nil || !isHealthFailure(err) },
			// A call the caller gave up on proves nothing either way.
			IsExcluded: func(err error) bool { return errors.Is(err, errCallerDone) },
		}
		if cfg.OnBreakerChange != nil {
			st.OnStateChange = func(name string, from, to gobreaker.State) {
				cfg.OnBreakerChange(name, from.String(), to.String())
			}
		}
		m[ep] = gobreaker.NewCircuitBreaker[struct{}](st)
	}
	return m
}

// errCallerDone marks, for the breaker only, an attempt that ended because
// the caller's context did.
var errCallerDone = errors.New("caller done")

// isHealthFailure reports the failures that say Covage is unwell: 5xx,
// network errors, timeouts and 429.
func isHealthFailure(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrRateLimited)
}

// guarded runs one attempt through the endpoint's breaker, when there is
// one. An open breaker fails fast with ErrCircuitOpen.
func (c *Client) guarded(ctx context.Context, endpoint string, fn func() error) error {
	cb := c.breakers[endpoint]
	if cb == nil {
		return fn()
	}
	var inner error
	_, err := cb.Execute(func() (struct{}, error) {
		inner = fn()
		if inner != nil && ctx.Err() != nil {
			return struct{}{}, errCallerDone
		}
		return struct{}{}, inner
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &Error{Endpoint: endpoint, Kind: ErrCircuitOpen}
	}
	return inner
}

// retryDelay reports whether a failed attempt is worth another one, and how
// long to wait first. Only connection errors, 502/503/504 and 429 are
// retried; 404, 401 (handled by re-authentication), other 5xx, bad bodies,
// timeouts and an open circuit are not. A Retry-After longer than the cap,
// or than what is left of the caller's deadline, ends the retries rather
// than being ignored.
func (c *Client) retryDelay(ctx context.Context, err error, attempt int, b *backoff.ExponentialBackOff) (time.Duration, bool) {
	if attempt >= c.retry.attempts || ctx.Err() != nil {
		return 0, false
	}
	var e *Error
	if !errors.As(err, &e) || !retryable(e) {
		return 0, false
	}
	wait := e.RetryAfter
	if wait > c.retry.maxRetryAfter {
		return 0, false
	}
	if step := b.NextBackOff(); wait == 0 && step > 0 {
		// Full jitter: anywhere between zero and the exponential step.
		wait = rand.N(step + 1)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
		return 0, false
	}
	return wait, true
}

// retryable reports the failures a GET may be retried on.
func retryable(e *Error) bool {
	switch {
	case errors.Is(e.Kind, ErrCircuitOpen):
		return false
	case errors.Is(e.Kind, ErrRateLimited):
		return true
	case errors.Is(e.Kind, ErrUnavailable):
		switch e.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		// No status, or a 2xx whose body was cut: the connection failed.
		return e.StatusCode == 0 || (e.StatusCode >= 200 && e.StatusCode <= 299)
	}
	return false
}

// newBackoff returns the exponential schedule of one call's retries.
func (c *Client) newBackoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     c.retry.baseDelay,
		RandomizationFactor: 0, // jitter is applied in full by retryDelay
		Multiplier:          2,
		MaxInterval:         c.retry.maxDelay,
	}
}

// sleep waits d or until ctx is done, and reports whether it waited in full.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// CredentialID returns a stable, non-secret identity of the credential a
// call made with ctx would send to Covage, for keying shared caches: two
// contexts with different IDs must never share cached data. It is a SHA-256
// digest, never the secret: of the bearer token carried by ctx
// (pass-through), of the static token, or of the token URL, client ID and
// username of the password grant. A client without credentials gives
// "none".
func (c *Client) CredentialID(ctx context.Context) string {
	if t, ok := bearerFrom(ctx); ok {
		return "bearer:" + digest(t.Reveal())
	}
	switch a := c.auth.(type) {
	case *staticToken:
		return "static:" + digest(a.value.Reveal())
	case *passwordAuth:
		return "password:" + digest(a.conf.Endpoint.TokenURL, a.conf.ClientID, a.username)
	case nil:
		return "none"
	}
	return "unknown"
}

// digest hashes parts, separated so that ("ab","c") and ("a","bc") differ.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CallBudget is the longest one call may take with every attempt this
// Client makes, each bounded by its timeout, and the longest wait between
// two attempts (a Retry-After or the backoff's cap). A caller that runs a
// call detached from its requester, such as the shared cache's coalesced
// call, gives it this deadline so that a retry is never cut off by a
// deadline set without knowing the retries.
func (c *Client) CallBudget() time.Duration {
	n := time.Duration(c.retry.attempts)
	return c.timeout*n + (n-1)*max(c.retry.maxRetryAfter, c.retry.maxDelay)
}

package covage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Auth is how the client authenticates to Covage: PasswordAuth, StaticToken,
// or nil for no authentication. Its methods are unexported so that every mode
// is one this package has reviewed for credential leaks.
type Auth interface {
	// token returns the bearer token to send. ctx carries the per-call
	// timeout and, under oauth2.HTTPClient, the HTTP client for token calls.
	token(ctx context.Context) (Secret, error)
	// cached returns the token to send when it is at hand without any
	// call, so that the client builds the token call's context (a timer
	// and a value) only when a call may be made.
	cached() (Secret, bool)
	// invalidate forgets token after Covage answered 401 to it, and reports
	// whether fetching a new one is worth a single retry.
	invalidate(token Secret) bool
}

// PasswordAuth authenticates with the OAuth2 resource owner password grant
// (Covage's Keycloak). The token is cached and shared by every call until it
// expires, then refreshed with its refresh token, falling back to a new
// password grant when that fails.
//
// A password grant the token endpoint rejects (HTTP 400 or 401: a wrong
// password, a disabled account or client) is remembered: until the next
// try is due, calls fail at once with the same ErrUnauthenticated, without
// asking Keycloak, whose brute-force detection would otherwise lock the
// account. The tries back off exponentially from RejectedGrantBackoff, never
// sooner, up to RejectedGrantBackoffMax.
func PasswordAuth(tokenURL, clientID, username string, password Secret, opts ...PasswordOption) Auth {
	a := &passwordAuth{
		conf: &oauth2.Config{
			ClientID: clientID,
			Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		username: username,
		password: password,
		sem:      make(chan struct{}, 1),
		now:      time.Now,
		jitter:   func(d time.Duration) time.Duration { return rand.N(d/10 + 1) },
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Backoff after a rejected password grant.
const (
	RejectedGrantBackoff    = 2 * time.Second
	RejectedGrantBackoffMax = 5 * time.Minute
)

// PasswordOption adjusts PasswordAuth.
type PasswordOption func(*passwordAuth)

// WithClock sets the clock that times the backoff after a rejected grant;
// tests step it instead of sleeping.
func WithClock(now func() time.Time) PasswordOption {
	return func(a *passwordAuth) { a.now = now }
}

// StaticToken sends a fixed bearer token. A 401 is returned as
// ErrUnauthenticated, since there is no way to get a better token.
func StaticToken(token Secret) Auth { return &staticToken{value: token} }

type passwordAuth struct {
	conf     *oauth2.Config
	username string
	password Secret

	// sem lets one caller at a time talk to the token endpoint, so that
	// concurrent calls finding an expired token do not stampede it. It is a
	// channel rather than a mutex so that waiters can give up with their ctx.
	sem chan struct{}

	// now and jitter time the backoff; jitter returns an extra wait in
	// [0, d/10], so a fleet of replicas does not retry in step, and the wait
	// is never shorter than the schedule.
	now    func() time.Time
	jitter func(d time.Duration) time.Duration

	mu  sync.Mutex // guards tok and the rejection below
	tok *oauth2.Token
	// rejected is the last rejection of the password grant, rejections how
	// many came in a row, and retryAt when the next grant may be tried.
	rejected   error
	rejections int
	retryAt    time.Time
}

// backingOff returns the remembered rejection while the next try is not due.
func (a *passwordAuth) backingOff() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rejected != nil && a.now().Before(a.retryAt) {
		return a.rejected
	}
	return nil
}

// remember records the outcome of a password grant: a rejection schedules
// the next try, anything else clears the backoff (a network failure is not
// a wrong password, and the semaphore already keeps it to one call at a
// time).
func (a *passwordAuth) remember(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var re *oauth2.RetrieveError
	if err == nil || !errors.As(err, &re) || re.Response == nil ||
		(re.Response.StatusCode != http.StatusBadRequest && re.Response.StatusCode != http.StatusUnauthorized) {
		a.rejected, a.rejections = nil, 0
		return
	}
	a.rejections++
	wait := RejectedGrantBackoffMax
	if a.rejections <= 16 {
		wait = min(RejectedGrantBackoff<<(a.rejections-1), RejectedGrantBackoffMax)
	}
	a.rejected = err
	a.retryAt = a.now().Add(wait + a.jitter(wait))
}

func (a *passwordAuth) current() *oauth2.Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok
}

func (a *passwordAuth) cached() (Secret, bool) {
	if t := a.current(); t.Valid() {
		return Secret(t.AccessToken), true
	}
	return "", false
}

func (a *passwordAuth) token(ctx context.Context) (Secret, error) {
	if t, ok := a.cached(); ok {
		return t, nil
	}
	if err := a.backingOff(); err != nil {
		return "", err
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-a.sem }()

	// Another caller may have fetched a token while this one waited.
	old := a.current()
	if old.Valid() {
		return Secret(old.AccessToken), nil
	}
	if err := a.backingOff(); err != nil {
		return "", err
	}
	var fresh *oauth2.Token
	if old != nil && old.RefreshToken != "" {
		// The refresh error is dropped on purpose: a password grant follows,
		// and its error is the one worth reporting.
		t, err := a.conf.TokenSource(ctx, old).Token()
		if err == nil {
			fresh = t
		} else if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	if fresh == nil {
		t, err := a.conf.PasswordCredentialsToken(ctx, a.username, a.password.Reveal())
		if err != nil && ctx.Err() == nil {
			a.remember(err)
		}
		if err != nil {
			return "", err
		}
		a.remember(nil)
		fresh = t
	}
	a.mu.Lock()
	a.tok = fresh
	a.mu.Unlock()
	return Secret(fresh.AccessToken), nil
}

func (a *passwordAuth) invalidate(rejected Secret) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Only forget the token that was rejected: when concurrent calls all get
	// a 401, the first one re-authenticates and the others reuse its token.
	// The refresh token goes too, since the session behind it is suspect.
	if a.tok != nil && a.tok.AccessToken == rejected.Reveal() {
		a.tok = nil
	}
	return true
}

// String describes the mode without any credential.
func (a *passwordAuth) String() string { return "covage.PasswordAuth(" + redacted + ")" }

// Format keeps fmt from printing the struct, which holds the password and
// the cached token.
func (a *passwordAuth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// LogValue keeps slog from printing the struct.
func (a *passwordAuth) LogValue() slog.Value { return slog.StringValue(a.String()) }

type staticToken struct{ value Secret }

func (s *staticToken) token(context.Context) (Secret, error) { return s.value, nil }

func (s *staticToken) cached() (Secret, bool) { return s.value, true }

func (s *staticToken) invalidate(Secret) bool { return false }

// String describes the mode without the token.
func (s *staticToken) String() string { return "covage.StaticToken(" + redacted + ")" }

// Format keeps fmt from printing the struct.
func (s *staticToken) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps slog from printing the struct.
func (s *staticToken) LogValue() slog.Value { return slog.StringValue(s.String()) }

// bearerKey is the context key under which WithBearer stores a token.
type bearerKey struct{}

// WithBearer returns a context whose calls send token instead of the
// client's configured Auth (pass-through of the end user's own credential).
// An empty token sends no Authorization header at all: it never falls back
// to the gateway's own credentials.
func WithBearer(ctx context.Context, token Secret) context.Context {
	return context.WithValue(ctx, bearerKey{}, token)
}

func bearerFrom(ctx context.Context) (Secret, bool) {
	t, ok := ctx.Value(bearerKey{}).(Secret)
	return t, ok
}

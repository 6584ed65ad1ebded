package covage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/oauth2"
)

// Auth is how the client authenticates to Covage: PasswordAuth, StaticToken,
// or nil for no authentication. Its methods are unexported so that every mode
// is one this package has reviewed for credential leaks.
type Auth interface {
	// token returns the bearer token to send. ctx carries the per-call
	// timeout and, under oauth2.HTTPClient, the HTTP client for token calls.
	token(ctx context.Context) (Secret, error)
	// invalidate forgets token after Covage answered 401 to it, and reports
	// whether fetching a new one is worth a single retry.
	invalidate(token Secret) bool
}

// PasswordAuth authenticates with the OAuth2 resource owner password grant
// (Covage's Keycloak). The token is cached and shared by every call until it
// expires, then refreshed with its refresh token, falling back to a new
// password grant when that fails.
func PasswordAuth(tokenURL, clientID, username string, password Secret) Auth {
	return &passwordAuth{
		conf: &oauth2.Config{
			ClientID: clientID,
			Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		username: username,
		password: password,
		sem:      make(chan struct{}, 1),
	}
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

	mu  sync.Mutex // guards tok
	tok *oauth2.Token
}

func (a *passwordAuth) current() *oauth2.Token {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok
}

func (a *passwordAuth) token(ctx context.Context) (Secret, error) {
	if t := a.current(); t.Valid() {
		return Secret(t.AccessToken), nil
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
		if err != nil {
			return "", err
		}
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

// Package auth authenticates the gateway's own callers: JWT bearer tokens
// verified against an identity provider's JWKS, and static API keys for
// server-to-server callers. It says who a caller is (Caller) or why it was
// refused (Refusal); the gateway decides what to do with the answer, so the
// rate limiter can key on the caller before a refusal is written.
//
// Nothing here ever keeps, logs or returns a token or a key: a caller is
// named by its JWT subject, or by its API key's name or digest.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Methods a Caller can be authenticated by.
const (
	MethodJWT    = "jwt"
	MethodAPIKey = "apikey"
)

// Caller is an authenticated caller.
type Caller struct {
	// Method is MethodJWT or MethodAPIKey.
	Method string
	// ID names the caller without any secret: the JWT subject (prefixed by
	// the issuer's method), or the API key's name, else its digest.
	ID string
}

// Key is the caller's rate-limit and log identity, e.g. "jwt:alice".
func (c Caller) Key() string { return c.Method + ":" + c.ID }

// Refusal is why a request was not authenticated. Status is 401 for a
// missing or invalid credential and 403 for a valid one that lacks the
// required scope; Challenge is the WWW-Authenticate header to send.
type Refusal struct {
	Status    int
	Message   string
	Challenge string
}

func (r *Refusal) Error() string { return "auth: " + r.Message }

// Config configures an Authenticator. At least one of JWKSURL and
// APIKeysFile must be set.
type Config struct {
	// JWKSURL is the identity provider's JWKS (AUTH_JWKS_URL); empty turns
	// JWT authentication off.
	JWKSURL string
	// Issuer and Audience must match the token's iss and aud claims
	// (AUTH_ISSUER, AUTH_AUDIENCE).
	Issuer, Audience string
	// RequiredScope, when set, must be in the token's scope or scp claim
	// (AUTH_REQUIRED_SCOPE).
	RequiredScope string
	// APIKeysFile lists the SHA-256 digests of the accepted API keys
	// (AUTH_API_KEYS_FILE); empty turns API keys off.
	APIKeysFile string
	// HTTPClient fetches the JWKS; one with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Logger receives JWKS and key-file reload failures.
	Logger *slog.Logger
	// Now is the clock, for token times and key-file checks; time.Now
	// when nil.
	Now func() time.Time
}

// Authenticator checks callers' credentials. It is safe for concurrent use;
// build one and Close it when done.
type Authenticator struct {
	jwt  *jwtVerifier
	keys *apiKeys
}

// New builds an Authenticator. It reads the API key file at once (a bad
// file stops the start) but does not wait for the JWKS: an identity
// provider that is down at start delays nothing but the first tokens.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.JWKSURL == "" && cfg.APIKeysFile == "" {
		return nil, errors.New("auth: neither a JWKS URL nor an API key file is set")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Authenticator{}
	if cfg.APIKeysFile != "" {
		k, err := newAPIKeys(cfg.APIKeysFile, cfg.Now, cfg.Logger)
		if err != nil {
			return nil, err
		}
		a.keys = k
	}
	if cfg.JWKSURL != "" {
		v, err := newJWTVerifier(ctx, cfg)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	}
	return a, nil
}

// Close stops the JWKS refresh.
func (a *Authenticator) Close(ctx context.Context) error {
	if a.jwt != nil {
		return a.jwt.close(ctx)
	}
	return nil
}

// APIKeyHeader carries a static API key.
const APIKeyHeader = "X-API-Key"

// Authenticate checks the request's credential: an X-API-Key header when
// API keys are on, else an Authorization bearer token when JWTs are on.
// A request that sends an API key is judged by it alone, so a bad key is
// never rescued by a token.
func (a *Authenticator) Authenticate(r *http.Request) (Caller, *Refusal) {
	if a.keys != nil {
		if v := r.Header.Get(APIKeyHeader); v != "" {
			return a.keys.check(v)
		}
	}
	if a.jwt != nil {
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := BearerToken(h)
			if !ok {
				return Caller{}, unauthenticated("the Authorization header must be \"Bearer <token>\"", "invalid_request")
			}
			return a.jwt.verify(r.Context(), tok)
		}
	}
	return Caller{}, unauthenticated(a.missing(), "")
}

// missing says which credential was expected.
func (a *Authenticator) missing() string {
	switch {
	case a.jwt != nil && a.keys != nil:
		return "a bearer token or an " + APIKeyHeader + " header is required"
	case a.jwt != nil:
		return "a bearer token is required"
	}
	return "an " + APIKeyHeader + " header is required"
}

// unauthenticated builds a 401. errCode is RFC 6750's error attribute,
// empty when no credential was sent at all (the RFC asks for none then).
func unauthenticated(msg, errCode string) *Refusal {
	ch := `Bearer realm="covage-gateway"`
	if errCode != "" {
		ch += `, error="` + errCode + `"`
	}
	return &Refusal{Status: http.StatusUnauthorized, Message: msg, Challenge: ch}
}

// BearerToken reads the token of an "Authorization: Bearer <token>"
// header: the scheme in any case, one token with no white space in it.
func BearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", false
	}
	return tok, true
}

type outcomeKey struct{}

type outcome struct {
	caller  Caller
	refusal *Refusal
}

// Middleware authenticates every request and records the outcome in its
// context, for Outcome to read. It refuses nothing itself: the gateway
// rate-limits first (by caller, or by address for a refused request) and
// then writes the refusal. CORS preflights carry no credentials by design
// and are recorded as neither.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		c, ref := a.Authenticate(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), outcomeKey{}, outcome{caller: c, refusal: ref})))
	})
}

// Outcome returns what Middleware found: the caller (ok), or the refusal,
// or neither when the request was not authenticated at all.
func Outcome(ctx context.Context) (c Caller, refusal *Refusal, ok bool) {
	o, found := ctx.Value(outcomeKey{}).(outcome)
	if !found || o.refusal != nil {
		return Caller{}, o.refusal, false
	}
	return o.caller, nil, true
}

package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// JWT verification settings. They are fixed on purpose: the skew is what
// the issue of record allows, and the refresh bounds keep a rotated key
// usable within a minute while a flood of made-up key ids costs the
// identity provider at most one fetch per refreshCooldown.
const (
	clockSkew = 60 * time.Second
	// refreshMin and refreshMax bound the background refresh interval,
	// which otherwise follows the JWKS answer's Cache-Control.
	refreshMin = 30 * time.Second
	refreshMax = 10 * time.Minute
	// refreshCooldown is the least time between two refreshes forced by a
	// token whose key id is not in the cached set.
	refreshCooldown = 10 * time.Second
	jwksTimeout     = 10 * time.Second
)

// jwtVerifier checks RS256 and ES256 tokens against a cached JWKS.
type jwtVerifier struct {
	url      string
	cache    *jwk.Cache
	issuer   string
	audience string
	scope    string
	now      func() time.Time
	cancel   context.CancelFunc

	refreshMu   sync.Mutex
	lastRefresh time.Time
}

func newJWTVerifier(ctx context.Context, cfg Config) (*jwtVerifier, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: jwksTimeout}
	}
	// The cache's goroutines live until close, not until the caller's
	// context ends.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c, err := jwk.NewCache(ctx, httprc.NewClient(httprc.WithWorkers(1)))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("auth: jwks cache: %w", err)
	}
	err = c.Register(ctx, cfg.JWKSURL,
		jwk.WithHTTPClient(hc),
		jwk.WithMinInterval(refreshMin),
		jwk.WithMaxInterval(refreshMax),
		jwk.WithMaxFetchBodySize(1<<20),
		jwk.WithWaitReady(false))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("auth: jwks: %w", err)
	}
	return &jwtVerifier{
		url: cfg.JWKSURL, cache: c, issuer: cfg.Issuer, audience: cfg.Audience,
		scope: cfg.RequiredScope, now: cfg.Now, cancel: cancel,
	}, nil
}

func (v *jwtVerifier) close(ctx context.Context) error {
	defer v.cancel()
	return v.cache.Shutdown(ctx)
}

// errAlgorithm refuses every algorithm but RS256 and ES256: "none", and
// HMAC, which would let a public key be used as a shared secret.
var errAlgorithm = errors.New("unsupported signing algorithm")

var errUnknownKey = errors.New("no key with this key id")

// FetchKeys is the jws.KeyProvider: it offers the one key the token's
// header names, and only for the algorithm that key's type allows.
func (v *jwtVerifier) FetchKeys(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok || (alg != jwa.RS256() && alg != jwa.ES256()) {
		return errAlgorithm
	}
	kid, _ := h.KeyID()
	keys, err := v.keys(ctx, kid)
	if err != nil {
		return err
	}
	offered := false
	for _, k := range keys {
		if fits(alg, k) {
			sink.Key(alg, k)
			offered = true
		}
	}
	if !offered {
		return errUnknownKey
	}
	return nil
}

// fits reports whether key may verify alg: an RSA public key for RS256, a
// P-256 public key for ES256.
func fits(alg jwa.SignatureAlgorithm, key jwk.Key) bool {
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return false
	}
	switch k := raw.(type) {
	case *rsa.PublicKey:
		return alg == jwa.RS256()
	case *ecdsa.PublicKey:
		return alg == jwa.ES256() && k.Curve == elliptic.P256()
	}
	return false
}

// keys returns the keys the token may be signed with: the one with its key
// id, or every key when it names none. A key id the cached set lacks forces
// one refresh, at most every refreshCooldown, so a rotated key works at
// once and made-up key ids cannot make the gateway hammer the provider.
func (v *jwtVerifier) keys(ctx context.Context, kid string) ([]jwk.Key, error) {
	set, err := v.cache.Lookup(ctx, v.url)
	if err == nil {
		if ks := pick(set, kid); len(ks) > 0 {
			return ks, nil
		}
	}
	v.refreshMu.Lock()
	defer v.refreshMu.Unlock()
	// Another request may have refreshed while this one waited.
	if set, err := v.cache.Lookup(ctx, v.url); err == nil {
		if ks := pick(set, kid); len(ks) > 0 {
			return ks, nil
		}
	}
	if now := v.now(); v.lastRefresh.IsZero() || now.Sub(v.lastRefresh) >= refreshCooldown {
		v.lastRefresh = now
		if set, err := v.cache.Refresh(ctx, v.url); err == nil {
			if ks := pick(set, kid); len(ks) > 0 {
				return ks, nil
			}
		} else {
			return nil, fmt.Errorf("%w (the key set could not be fetched)", errUnknownKey)
		}
	}
	return nil, errUnknownKey
}

func pick(set jwk.Set, kid string) []jwk.Key {
	if kid != "" {
		if k, ok := set.LookupKeyID(kid); ok {
			return []jwk.Key{k}
		}
		return nil
	}
	var out []jwk.Key
	for i := range set.Len() {
		if k, ok := set.Key(i); ok {
			out = append(out, k)
		}
	}
	return out
}

// verify checks the token's signature, times (with clockSkew), issuer,
// audience and scope.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (Caller, *Refusal) {
	opts := []jwt.ParseOption{
		jwt.WithKeyProvider(v),
		jwt.WithContext(ctx),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(clockSkew),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("sub"),
	}
	if v.issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.issuer))
	}
	if v.audience != "" {
		opts = append(opts, jwt.WithAudience(v.audience))
	}
	tok, err := jwt.ParseString(raw, opts...)
	if err != nil {
		return Caller{}, unauthenticated("the bearer token was refused: "+reason(err), "invalid_token")
	}
	sub, _ := tok.Subject()
	if v.scope != "" && !hasScope(tok, v.scope) {
		return Caller{}, &Refusal{
			Status:    http.StatusForbidden,
			Message:   fmt.Sprintf("the bearer token lacks the scope %q", v.scope),
			Challenge: fmt.Sprintf(`Bearer realm="covage-gateway", error="insufficient_scope", scope=%q`, v.scope),
		}
	}
	return Caller{Method: MethodJWT, ID: sub}, nil
}

// reason names why a token was refused, from a fixed list: the library's
// own messages may quote claims.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "it has expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "it is not valid yet"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "wrong issuer"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "wrong audience"
	case errors.Is(err, errAlgorithm):
		return "unsupported signing algorithm (RS256 or ES256 only)"
	case errors.Is(err, errUnknownKey):
		return "unknown signing key"
	case errors.Is(err, jwt.ValidateError()):
		return "invalid or missing claims (exp and sub are required)"
	}
	return "bad signature or malformed token"
}

// hasScope looks for want in the space-separated scope claim (OAuth2) or in
// the scp claim, a string or a list (Azure AD, Okta).
func hasScope(tok jwt.Token, want string) bool {
	for _, name := range []string{"scope", "scp"} {
		var s string
		if err := tok.Get(name, &s); err == nil && slices.Contains(strings.Fields(s), want) {
			return true
		}
		var list []any
		if err := tok.Get(name, &list); err == nil {
			for _, e := range list {
				if e == want {
					return true
				}
			}
		}
	}
	return false
}

package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/require"
)

const (
	testIssuer   = "https://idp.example.com/realms/covage"
	testAudience = "covage-gateway"
)

// rsaKey is generated once per test binary: RSA key generation is slow
// under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// signer is a private key with its key id.
type signer struct {
	alg jwa.SignatureAlgorithm
	key jwk.Key // private, with kid
	pub jwk.Key
}

func newSigner(t testing.TB, kid string, alg jwa.SignatureAlgorithm) signer {
	t.Helper()
	var raw any
	if alg == jwa.RS256() {
		raw = rsaKey()
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		raw = k
	}
	key, err := jwk.Import(raw)
	require.NoError(t, err)
	require.NoError(t, key.Set(jwk.KeyIDKey, kid))
	pub, err := key.PublicKey()
	require.NoError(t, err)
	return signer{alg: alg, key: key, pub: pub}
}

// jwksServer serves a key set that tests can change, on loopback, and
// counts its fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwk.Key
	fetches atomic.Int64
	down    atomic.Bool
}

func newJWKS(t testing.TB, keys ...signer) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		set := jwk.NewSet()
		for _, k := range s.keys {
			_ = set.AddKey(k)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = nil
	for _, k := range keys {
		s.keys = append(s.keys, k.pub)
	}
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)} }

// claims are a valid token's claims at c's time; edit changes them.
func (s signer) token(t testing.TB, c *clock, edit func(jwt.Token)) string {
	t.Helper()
	tok, err := jwt.NewBuilder().
		Issuer(testIssuer).Audience([]string{testAudience}).Subject("alice").
		IssuedAt(c.Now()).Expiration(c.Now().Add(5 * time.Minute)).Build()
	require.NoError(t, err)
	if edit != nil {
		edit(tok)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.key))
	require.NoError(t, err)
	return string(b)
}

func newTestAuth(t testing.TB, c *clock, url string, edit func(*Config)) *Authenticator {
	t.Helper()
	cfg := Config{JWKSURL: url, Issuer: testIssuer, Audience: testAudience, Now: c.Now}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func request(header, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	if header != "" {
		r.Header.Set(header, value)
	}
	return r
}

// b64 is unpadded base64url, as JWS uses.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWT(t *testing.T) {
	c := newClock()
	rs := newSigner(t, "rsa-1", jwa.RS256())
	es := newSigner(t, "ec-1", jwa.ES256())
	stranger := newSigner(t, "ec-1", jwa.ES256()) // same kid, other key
	srv := newJWKS(t, rs, es)
	a := newTestAuth(t, c, srv.URL, nil)
	scoped := newTestAuth(t, c, srv.URL, func(cfg *Config) { cfg.RequiredScope = "covage.read" })

	claims := `{"iss":"` + testIssuer + `","aud":"` + testAudience + `","sub":"mallory","exp":` +
		jsonNum(c.Now().Add(time.Hour).Unix()) + `}`
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	require.NoError(t, err)
	hmacWithPublicKey, err := jwt.Sign(mustParseInsecure(t, claims), jwt.WithKey(jwa.HS256(), pubDER))
	require.NoError(t, err)

	tests := []struct {
		name       string
		auth       *Authenticator
		header     string
		value      string
		wantCaller string
		wantStatus int
		wantMsg    string
	}{
		{name: "RS256", header: "Authorization", value: "Bearer " + rs.token(t, c, nil), wantCaller: "jwt:alice"},
		{name: "ES256", header: "Authorization", value: "Bearer " + es.token(t, c, nil), wantCaller: "jwt:alice"},
		{name: "scheme is case-insensitive", header: "Authorization", value: "bearer " + es.token(t, c, nil), wantCaller: "jwt:alice"},
		{name: "no credential", wantStatus: 401, wantMsg: "a bearer token is required"},
		{name: "basic auth", header: "Authorization", value: "Basic YWxpY2U6cHc=", wantStatus: 401, wantMsg: "Bearer <token>"},
		{name: "garbage", header: "Authorization", value: "Bearer not.a.jwt", wantStatus: 401, wantMsg: "malformed"},
		{name: "expired", header: "Authorization", value: "Bearer " + rs.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.ExpirationKey, c.Now().Add(-2*time.Minute))
		}), wantStatus: 401, wantMsg: "expired"},
		{name: "expired within the skew", header: "Authorization", value: "Bearer " + rs.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.ExpirationKey, c.Now().Add(-50*time.Second))
		}), wantCaller: "jwt:alice"},
		{name: "not yet valid", header: "Authorization", value: "Bearer " + rs.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.NotBeforeKey, c.Now().Add(2*time.Minute))
		}), wantStatus: 401, wantMsg: "not valid yet"},
		{name: "issued slightly in the future", header: "Authorization", value: "Bearer " + rs.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.NotBeforeKey, c.Now().Add(40*time.Second))
		}), wantCaller: "jwt:alice"},
		{name: "wrong issuer", header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.IssuerKey, "https://evil.example.com")
		}), wantStatus: 401, wantMsg: "wrong issuer"},
		{name: "wrong audience", header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Set(jwt.AudienceKey, []string{"another-api"})
		}), wantStatus: 401, wantMsg: "wrong audience"},
		{name: "no expiry", header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Remove(jwt.ExpirationKey)
		}), wantStatus: 401, wantMsg: "missing"},
		{name: "no subject", header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Remove(jwt.SubjectKey)
		}), wantStatus: 401, wantMsg: "missing"},
		{name: "signed by a key not in the set", header: "Authorization", value: "Bearer " + stranger.token(t, c, nil), wantStatus: 401, wantMsg: "bad signature"},
		{name: "alg none", header: "Authorization", value: "Bearer " + b64(`{"alg":"none","kid":"rsa-1"}`) + "." + b64(claims) + ".", wantStatus: 401, wantMsg: "unsupported signing algorithm"},
		{name: "HMAC keyed with the public key", header: "Authorization", value: "Bearer " + string(hmacWithPublicKey), wantStatus: 401, wantMsg: "unsupported signing algorithm"},
		{name: "scope missing", auth: scoped, header: "Authorization", value: "Bearer " + es.token(t, c, nil), wantStatus: 403, wantMsg: `scope "covage.read"`},
		{name: "scope in scope claim", auth: scoped, header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Set("scope", "openid covage.read profile")
		}), wantCaller: "jwt:alice"},
		{name: "scope in scp list", auth: scoped, header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Set("scp", []string{"covage.read"})
		}), wantCaller: "jwt:alice"},
		{name: "scope prefix is not the scope", auth: scoped, header: "Authorization", value: "Bearer " + es.token(t, c, func(tok jwt.Token) {
			_ = tok.Set("scope", "covage.readwrite")
		}), wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := tt.auth
			if auth == nil {
				auth = a
			}
			caller, ref := auth.Authenticate(request(tt.header, tt.value))
			if tt.wantCaller != "" {
				require.Nil(t, ref)
				require.Equal(t, tt.wantCaller, caller.Key())
				return
			}
			require.NotNil(t, ref)
			require.Equal(t, tt.wantStatus, ref.Status)
			require.Contains(t, ref.Message, tt.wantMsg)
			require.Contains(t, ref.Challenge, "Bearer ")
			if tt.wantStatus == 403 {
				require.Contains(t, ref.Challenge, `error="insufficient_scope"`)
			}
			require.Equal(t, Caller{}, caller, "no caller on a refusal")
		})
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustParseInsecure(t *testing.T, claims string) jwt.Token {
	t.Helper()
	tok, err := jwt.ParseInsecure([]byte(b64(`{"alg":"none"}`) + "." + b64(claims) + "."))
	require.NoError(t, err)
	return tok
}

// TestJWKSRotation checks that a token signed by a key the cached set does
// not hold yet is accepted as soon as the provider publishes it, and that
// made-up key ids cost the provider at most one fetch per cooldown.
func TestJWKSRotation(t *testing.T) {
	c := newClock()
	old := newSigner(t, "2026-11", jwa.ES256())
	next := newSigner(t, "2026-12", jwa.ES256())
	srv := newJWKS(t, old)
	a := newTestAuth(t, c, srv.URL, nil)

	_, ref := a.Authenticate(request("Authorization", "Bearer "+old.token(t, c, nil)))
	require.Nil(t, ref)
	fetched := srv.fetches.Load()

	// Made-up key ids: the first forces one refresh, the rest wait for the
	// cooldown.
	for range 50 {
		bogus := newSigner(t, "made-up", jwa.ES256())
		_, ref := a.Authenticate(request("Authorization", "Bearer "+bogus.token(t, c, nil)))
		require.NotNil(t, ref)
		require.Equal(t, 401, ref.Status)
	}
	require.LessOrEqual(t, srv.fetches.Load()-fetched, int64(1), "made-up key ids forced at most one fetch")

	// The provider rotates; within the cooldown the new kid is not fetched
	// yet, after it, the first token with the new kid fetches it.
	srv.set(old, next)
	c.Add(refreshCooldown)
	_, ref = a.Authenticate(request("Authorization", "Bearer "+next.token(t, c, nil)))
	require.Nil(t, ref, "a rotated key is accepted without waiting for the periodic refresh")
	_, ref = a.Authenticate(request("Authorization", "Bearer "+old.token(t, c, nil)))
	require.Nil(t, ref, "the old key still works while published")
}

// TestJWKSDownAtStart checks that an identity provider that is down does
// not stop the gateway from starting, and that tokens work once it is back.
func TestJWKSDownAtStart(t *testing.T) {
	c := newClock()
	k := newSigner(t, "k1", jwa.ES256())
	srv := newJWKS(t, k)
	srv.down.Store(true)
	a := newTestAuth(t, c, srv.URL, nil)
	_, ref := a.Authenticate(request("Authorization", "Bearer "+k.token(t, c, nil)))
	require.NotNil(t, ref)
	require.Equal(t, 401, ref.Status)
	srv.down.Store(false)
	c.Add(refreshCooldown)
	_, ref = a.Authenticate(request("Authorization", "Bearer "+k.token(t, c, nil)))
	require.Nil(t, ref)
}

// FuzzAuthenticate checks that no made-up Authorization or X-API-Key value
// is ever accepted, and that none makes the verifier panic.
func FuzzAuthenticate(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "")
	f.Add("Bearer a.b.c", "key")
	f.Add("bearer "+b64(`{"alg":"HS256","kid":"k"}`)+"."+b64(`{"sub":"x","exp":99999999999}`)+".c2ln", "")
	c := newClock()
	srv := newJWKSForFuzz(f)
	path := filepath.Join(f.TempDir(), "keys")
	if err := os.WriteFile(path, []byte(digestOf("the-only-key")+" svc\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	a, err := New(context.Background(), Config{JWKSURL: srv.URL, Issuer: testIssuer, Audience: testAudience, APIKeysFile: path, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, authz, key string) {
		if key == "the-only-key" {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/query", nil)
		r.Header["Authorization"] = []string{authz}
		if key != "" {
			r.Header[APIKeyHeader] = []string{key}
		}
		if caller, ref := a.Authenticate(r); ref == nil {
			t.Fatalf("accepted %q / %q as %v", authz, key, caller)
		}
	})
}

// newJWKSForFuzz serves an empty key set.
func newJWKSForFuzz(f *testing.F) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	f.Cleanup(srv.Close)
	return srv
}

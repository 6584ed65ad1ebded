// Package authtest gives tests an identity provider: a JWKS server on
// loopback with ES256 keys, and tokens signed by them. It is for tests
// only; nothing in the gateway imports it.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Issuer and Audience are the claims the provider's tokens carry.
const (
	Issuer   = "https://idp.test/realms/covage"
	Audience = "covage-gateway"
)

// Provider is a JWKS endpoint with one signing key.
type Provider struct {
	Server  *httptest.Server
	key     jwk.Key
	Fetches atomic.Int64
}

// NewProvider starts the JWKS server; it stops with the test.
func NewProvider(t testing.TB) *Provider {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, "test-1"); err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.Fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is the JWKS URL.
func (p *Provider) URL() string { return p.Server.URL }

// Token signs a token for subject, valid for ttl (negative for an expired
// one), with the given extra claims.
func (p *Provider) Token(t testing.TB, subject string, ttl time.Duration, claims map[string]any) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer(Issuer).Audience([]string{Audience}).Subject(subject).
		IssuedAt(time.Now()).Expiration(time.Now().Add(ttl))
	for k, v := range claims {
		b = b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), p.key))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// KeyFile writes an API key file listing name for each key, and returns
// its path.
func KeyFile(t testing.TB, keys map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# test keys\n")
	for key, name := range keys {
		sum := sha256.Sum256([]byte(key))
		b.WriteString(hex.EncodeToString(sum[:]) + " " + name + "\n")
	}
	path := filepath.Join(t.TempDir(), "api-keys")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

package auth

import (
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
)

// BenchmarkAuthenticate measures what one request's credential check costs
// the gateway, per method: the price of a refused request too, since every
// request is checked before the rate limit.
func BenchmarkAuthenticate(b *testing.B) {
	c := newClock()
	t := b
	rs := newSigner(t, "rsa-1", jwa.RS256())
	es := newSigner(t, "ec-1", jwa.ES256())
	srv := newJWKS(t, rs, es)
	a := newTestAuth(t, c, srv.URL, nil)
	for _, bc := range []struct{ name, value string }{
		{"RS256", "Bearer " + rs.token(t, c, nil)},
		{"ES256", "Bearer " + es.token(t, c, nil)},
		{"garbage", "Bearer not.a.jwt"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := request("Authorization", bc.value)
			for b.Loop() {
				a.Authenticate(r)
			}
		})
	}
}

package gateway

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientAddress(t *testing.T) {
	trusted := clientAddress{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}
	tests := []struct {
		name    string
		c       clientAddress
		peer    string
		headers map[string][]string
		want    string
	}{
		{"no proxy trusted: headers ignored", clientAddress{}, "203.0.113.9:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9"},
		{"untrusted peer: headers ignored", trusted, "203.0.113.9:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9"},
		{"trusted peer: right-most hop", trusted, "10.1.1.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"spoofed left hops are skipped", trusted, "10.1.1.1:4000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 5.6.7.8", "198.51.100.1"}}, "198.51.100.1"},
		{"trusted hops are walked past", trusted, "10.1.1.1:4000",
			map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1, 10.2.2.2"}}, "198.51.100.1"},
		{"all trusted: the left-most", trusted, "10.1.1.1:4000",
			map[string][]string{"X-Forwarded-For": {"10.3.3.3, 10.2.2.2"}}, "10.3.3.3"},
		{"garbage hop: the last trusted hop", trusted, "10.1.1.1:4000",
			map[string][]string{"X-Forwarded-For": {"nonsense"}}, "10.1.1.1"},
		{"trusted peer without header", trusted, "10.1.1.1:4000", nil, "10.1.1.1"},
		{"Forwarded", trusted, "10.1.1.1:4000",
			map[string][]string{"Forwarded": {`for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https, for=198.51.100.1;by=10.1.1.1`}}, "198.51.100.1"},
		{"Forwarded IPv6 client", trusted, "10.1.1.1:4000",
			map[string][]string{"Forwarded": {`for="[2001:dc0::17]:4711"`}}, "2001:dc0::17"},
		{"Forwarded obfuscated", trusted, "10.1.1.1:4000",
			map[string][]string{"Forwarded": {`for=_hidden`}}, "10.1.1.1"},
		{"IPv4-mapped peer", trusted, "[::ffff:10.1.1.1]:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for k, vs := range tt.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			require.Equal(t, tt.want, tt.c.of(r).String())
		})
	}
}

// FuzzClientAddress checks, for any forwarding headers, that an untrusted
// peer is always the client, and that otherwise the client is the peer or
// one of the hops it was sent.
func FuzzClientAddress(f *testing.F) {
	f.Add("10.1.1.1:4000", "1.2.3.4, 198.51.100.1", "")
	f.Add("10.1.1.1:4000", "", `for="[2001:db8::1]:80";proto=https, for=unknown`)
	f.Add("203.0.113.9:1", "10.0.0.1", "for=10.0.0.2")
	trusted := clientAddress{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Forwarded", fwd)
		if xff == "" {
			r.Header.Del("X-Forwarded-For")
		}
		got := trusted.of(r)
		p := parseHost(peer)
		if !p.IsValid() || !trusted.isTrusted(p) {
			if got != p {
				t.Fatalf("untrusted peer %q: got %v", peer, got)
			}
			return
		}
		if got == p {
			return
		}
		for _, h := range forwardedHops(r.Header) {
			if parseHost(h) == got {
				return
			}
		}
		t.Fatalf("client %v is neither the peer nor a hop", got)
	})
}

package config

import (
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
)

// Caller authentication modes (AUTH_MODE).
const (
	AuthNone   = "none"
	AuthJWT    = "jwt"
	AuthAPIKey = "apikey"
)

// Callers is how the gateway knows who calls it: caller authentication and
// the proxies whose forwarding headers it believes.
type Callers struct {
	// JWT and APIKey are the methods on (AUTH_MODE, or implied by
	// AUTH_JWKS_URL and AUTH_API_KEYS_FILE). Neither is "none".
	JWT, APIKey bool
	// JWKSURL is the identity provider's key set (AUTH_JWKS_URL): https,
	// or http on a loopback address.
	JWKSURL string
	// Issuer and Audience must match the token's iss and aud
	// (AUTH_ISSUER, AUTH_AUDIENCE); both are required with JWTs.
	Issuer, Audience string
	// RequiredScope must be in the token's scope or scp claim
	// (AUTH_REQUIRED_SCOPE); empty requires none.
	RequiredScope string
	// APIKeysFile lists the accepted API keys' SHA-256 digests
	// (AUTH_API_KEYS_FILE).
	APIKeysFile string
	// TrustedProxies are the addresses whose X-Forwarded-For and Forwarded
	// headers name the client (TRUSTED_PROXIES, comma-separated CIDRs or
	// addresses; none by default).
	TrustedProxies []netip.Prefix
}

// Enabled reports whether callers must authenticate.
func (c Callers) Enabled() bool { return c.JWT || c.APIKey }

// Mode names the methods on, as AUTH_MODE spells them.
func (c Callers) Mode() string {
	var m []string
	if c.JWT {
		m = append(m, AuthJWT)
	}
	if c.APIKey {
		m = append(m, AuthAPIKey)
	}
	if len(m) == 0 {
		return AuthNone
	}
	return strings.Join(m, ",")
}

// callers reads the caller settings; c is the rest of the configuration,
// for the checks that span both.
func (p *parser) callers(c Config) Callers {
	cl := Callers{
		JWKSURL:       strings.TrimSpace(p.getenv("AUTH_JWKS_URL")),
		Issuer:        strings.TrimSpace(p.getenv("AUTH_ISSUER")),
		Audience:      strings.TrimSpace(p.getenv("AUTH_AUDIENCE")),
		RequiredScope: strings.TrimSpace(p.getenv("AUTH_REQUIRED_SCOPE")),
		APIKeysFile:   strings.TrimSpace(p.getenv("AUTH_API_KEYS_FILE")),
	}
	mode := strings.ToLower(strings.ReplaceAll(p.getenv("AUTH_MODE"), " ", ""))
	explicitNone := false
	switch mode {
	case "":
		cl.JWT, cl.APIKey = cl.JWKSURL != "", cl.APIKeysFile != ""
	case AuthNone:
		explicitNone = true
		if cl.JWKSURL != "" || cl.APIKeysFile != "" {
			p.fail("AUTH_MODE=none contradicts AUTH_JWKS_URL/AUTH_API_KEYS_FILE: unset them, or AUTH_MODE")
		}
	default:
		for m := range strings.SplitSeq(mode, ",") {
			switch m {
			case AuthJWT:
				cl.JWT = true
			case AuthAPIKey:
				cl.APIKey = true
			default:
				p.fail("AUTH_MODE=%q: want none, jwt, apikey or jwt,apikey", mode)
			}
		}
		if !cl.JWT && cl.JWKSURL != "" {
			p.fail("AUTH_JWKS_URL is set but AUTH_MODE=%s leaves JWTs off", mode)
		}
		if !cl.APIKey && cl.APIKeysFile != "" {
			p.fail("AUTH_API_KEYS_FILE is set but AUTH_MODE=%s leaves API keys off", mode)
		}
	}
	if cl.JWT {
		p.jwksURL(cl.JWKSURL)
		if cl.Issuer == "" || cl.Audience == "" {
			p.fail("JWT authentication needs AUTH_ISSUER and AUTH_AUDIENCE, or tokens the identity provider issued for any other client would be accepted")
		}
	}
	if cl.APIKey {
		if cl.APIKeysFile == "" {
			p.fail("AUTH_MODE=%s needs AUTH_API_KEYS_FILE", mode)
		} else if _, err := os.Stat(cl.APIKeysFile); err != nil {
			p.fail("AUTH_API_KEYS_FILE: %v", err)
		}
	}
	if cl.Enabled() && c.Resilience.PassThrough() {
		p.fail("AUTH_MODE=%s and COVAGE_CREDENTIALS=passthrough exclude each other: both would read the caller's Authorization header", cl.Mode())
	}
	if c.Security.Production() && !cl.Enabled() && !explicitNone && !c.Resilience.PassThrough() {
		p.fail("GATEWAY_ENV=production with the gateway's own Covage credentials needs caller authentication: " +
			"set AUTH_JWKS_URL (with AUTH_ISSUER and AUTH_AUDIENCE) or AUTH_API_KEYS_FILE, or AUTH_MODE=none to serve anyone who reaches the port")
	}

	for s := range strings.SplitSeq(p.getenv("TRUSTED_PROXIES"), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				p.fail("TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8 or an address", s)
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		cl.TrustedProxies = append(cl.TrustedProxies, pfx.Masked())
	}
	return cl
}

// jwksURL checks that the key set is fetched over TLS: a key set an
// attacker on the path can replace lets them mint any token. Plain http is
// allowed on loopback only, for tests and sidecars.
func (p *parser) jwksURL(v string) {
	if v == "" {
		p.fail("AUTH_MODE includes jwt but AUTH_JWKS_URL is not set")
		return
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil {
		p.fail("AUTH_JWKS_URL: want an absolute https URL without credentials")
		return
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			p.fail("AUTH_JWKS_URL must be https (plain http only on a loopback address)")
		}
	default:
		p.fail("AUTH_JWKS_URL must be https (plain http only on a loopback address)")
	}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package covage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// Pool shapes the connections to Covage (and its token endpoint). The
// gateway fills it from config.Upstream; the load tools' floor
// (internal/loadtest.Floor) fills it from its flags, so that both hold the
// very same pool.
type Pool struct {
	// MaxConnsPerHost caps the connections to each host, and as many are
	// kept while idle.
	MaxConnsPerHost int
	// IdleConnTimeout is how long an unused connection stays open.
	IdleConnTimeout time.Duration
	// RootCAs are the CAs trusted for HTTPS; nil means the system's.
	RootCAs *x509.CertPool
}

// DialFunc is the shape of http.Transport.DialContext.
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// NewTransport is the Covage client's own connection pool, so it shares no
// connections or settings with the rest of the process. It keeps as many
// connections idle as it may open (p.MaxConnsPerHost), so steady load
// never closes a connection only to dial a new one; it trusts p.RootCAs;
// and it resumes TLS sessions and speaks HTTP/2 when Covage offers them.
// wrapDial, when not nil, wraps the TCP dial (the gateway counts the
// connections it opens there); the transport still negotiates TLS and
// HTTP/2 itself.
func NewTransport(p Pool, wrapDial func(DialFunc) DialFunc) *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	dial := DialFunc(dialer.DialContext)
	if wrapDial != nil {
		dial = wrapDial(dial)
	}
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: dial,
		// A TLSClientConfig of our own turns off Go's automatic HTTP/2
		// unless this is set.
		ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{
			RootCAs:    p.RootCAs,
			MinVersion: tls.VersionTLS12,
			// Without a session cache every new connection is a full
			// handshake; with it, a resumed one.
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
		},
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxConnsPerHost:       p.MaxConnsPerHost,
		MaxIdleConnsPerHost:   p.MaxConnsPerHost,
		// 0 is no total cap: the per-host caps bound it, and the gateway
		// talks to two hosts at most (the API and the token endpoint).
		MaxIdleConns:    0,
		IdleConnTimeout: p.IdleConnTimeout,
	}
}

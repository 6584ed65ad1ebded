package config

import (
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"time"
)

// DefaultMaxConnsPerHost is COVAGE_MAX_CONNS_PER_HOST's default. With 16
// concurrent GraphQL requests, each with up to BILLING_SITE_CONCURRENCY (8)
// billing-site GETs in flight, 128 calls can be waiting on Covage at once;
// the pool holds them all, so under that load no call waits for a
// connection and none is closed only to be dialled again (BENCHMARKS.md,
// "Connections to Covage").
const DefaultMaxConnsPerHost = 128

// Upstream shapes the HTTP connections to Covage (and its token endpoint).
type Upstream struct {
	// MaxConnsPerHost caps the connections to each upstream host, and the
	// same number are kept open while idle, so steady load reuses them
	// instead of dialling (COVAGE_MAX_CONNS_PER_HOST). A call that finds
	// every connection busy waits for one, within COVAGE_TIMEOUT. Over
	// HTTP/2 each connection carries many calls at once.
	MaxConnsPerHost int
	// IdleConnTimeout is how long an unused connection stays open
	// (COVAGE_IDLE_CONN_TIMEOUT, default 90s, Go's default). Keep it below
	// the idle timeout of Covage's load balancer, so the gateway, not the
	// far end, closes them.
	IdleConnTimeout time.Duration
	// CAFile is COVAGE_CA_FILE: a PEM bundle of CAs trusted besides the
	// system's, for a Covage behind a private CA.
	CAFile string
	// RootCAs is the system roots plus CAFile's certificates; nil when
	// CAFile is unset, which means the system roots.
	RootCAs *x509.CertPool
}

func (p *parser) upstream() Upstream {
	u := Upstream{
		MaxConnsPerHost: p.int("COVAGE_MAX_CONNS_PER_HOST", DefaultMaxConnsPerHost, 1, 10_000),
		IdleConnTimeout: p.duration("COVAGE_IDLE_CONN_TIMEOUT", 90*time.Second),
		CAFile:          strings.TrimSpace(p.getenv("COVAGE_CA_FILE")),
	}
	if u.IdleConnTimeout <= 0 {
		p.fail("COVAGE_IDLE_CONN_TIMEOUT must be positive: idle connections are what keeps calls to Covage from dialling")
	}
	if u.CAFile == "" {
		return u
	}
	pem, err := os.ReadFile(u.CAFile)
	if err != nil {
		p.fail("COVAGE_CA_FILE: %v", err)
		return u
	}
	if err := u.Trust(pem); err != nil {
		p.fail("COVAGE_CA_FILE=%q: %v", u.CAFile, err)
	}
	return u
}

// Trust adds the PEM certificates to RootCAs (starting from the system
// roots), for COVAGE_CA_FILE and for the demo upstream's own certificate.
func (u *Upstream) Trust(pem []byte) error {
	pool := u.RootCAs
	if pool == nil {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return err
		}
		pool = sys
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no PEM certificate in it")
	}
	u.RootCAs = pool
	return nil
}

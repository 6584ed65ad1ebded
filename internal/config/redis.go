package config

import (
	"strings"
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/shared"
)

// Redis holds the settings of the state shared by replicas. With no URL
// the gateway keeps everything in memory, as a single process.
type Redis struct {
	// URL is redis:// or rediss:// with user, password and database
	// (REDIS_URL). Empty turns the shared layer off. It is a secret: it
	// may hold a password.
	URL covage.Secret
	// Mode is standalone, cluster or sentinel (REDIS_MODE).
	Mode string
	// Timeout bounds every Redis operation (REDIS_TIMEOUT, default 100ms).
	Timeout time.Duration
	// Prefix starts every key (REDIS_KEY_PREFIX, default covage).
	Prefix string
	// MaxValueBytes caps a cached value in Redis (REDIS_MAX_VALUE_BYTES,
	// default 4 MiB).
	MaxValueBytes int
	// LeaseTTL is how long a replica's lease on a missing value lives
	// unless its holder extends it (REDIS_LEASE_TTL, default 300ms): how
	// long other replicas wait for a holder that died or lost Redis.
	LeaseTTL time.Duration
	// APQTTL is how long a persisted query registered through any replica
	// is kept in Redis (REDIS_APQ_TTL, default 24h).
	APQTTL time.Duration
}

// Enabled reports whether REDIS_URL is set.
func (r Redis) Enabled() bool { return r.URL != "" }

func (p *parser) redis() Redis {
	r := Redis{
		URL:           covage.Secret(strings.TrimSpace(p.getenv("REDIS_URL"))),
		Mode:          strings.ToLower(p.str("REDIS_MODE", shared.ModeStandalone)),
		Timeout:       p.duration("REDIS_TIMEOUT", shared.DefaultTimeout),
		Prefix:        p.str("REDIS_KEY_PREFIX", shared.DefaultPrefix),
		MaxValueBytes: p.int("REDIS_MAX_VALUE_BYTES", cache.DefaultMaxValueBytes, 1024, 512<<20),
		LeaseTTL:      p.duration("REDIS_LEASE_TTL", cache.DefaultLeaseTTL),
		APQTTL:        p.duration("REDIS_APQ_TTL", 24*time.Hour),
	}
	if r.Timeout <= 0 {
		p.fail("REDIS_TIMEOUT must be positive")
	}
	if r.LeaseTTL < 2*r.Timeout {
		p.fail("REDIS_LEASE_TTL (%s) must be at least twice REDIS_TIMEOUT (%s): its holder extends it every third of it", r.LeaseTTL, r.Timeout)
	}
	if r.APQTTL < time.Second {
		p.fail("REDIS_APQ_TTL must be at least 1s")
	}
	if strings.ContainsAny(r.Prefix, "{} \t\r\n") {
		p.fail("REDIS_KEY_PREFIX=%q: no braces or spaces", r.Prefix)
	}
	switch r.Mode {
	case shared.ModeStandalone, shared.ModeCluster, shared.ModeSentinel:
	default:
		p.fail("REDIS_MODE=%q: want standalone, cluster or sentinel", r.Mode)
	}
	if r.Enabled() {
		if err := shared.Validate(r.URL.Reveal(), r.Mode); err != nil {
			p.fail("REDIS_URL: %v", err)
		}
	}
	return r
}

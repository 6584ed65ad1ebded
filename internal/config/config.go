// Package config loads the gateway's settings from environment variables
// into one struct, and validates them all at start, so a bad setting stops
// the gateway with a message that names it rather than failing later.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/gateway"
)

// Config is every setting of the gateway.
type Config struct {
	// Port is the HTTP port the gateway listens on (PORT); 0 picks a free
	// port, for tests.
	Port int
	// AdminPort, when not 0, serves /metrics, /debug/pprof, /healthz and
	// /readyz on a port of its own, and takes /metrics and /debug/pprof off
	// the public port (ADMIN_PORT, no default).
	AdminPort int
	// CovageURL is Covage's API base URL (COVAGE_API_URL). Empty means demo
	// mode: the gateway serves sample data from a built-in upstream.
	CovageURL string
	// TokenURL, Username and Password select the OAuth2 password grant
	// (COVAGE_TOKEN_URL, COVAGE_USERNAME, COVAGE_PASSWORD).
	TokenURL string
	Username string
	Password covage.Secret
	// ClientID is the OAuth2 client (COVAGE_CLIENT_ID, default api-client).
	ClientID string
	// APIToken is a static bearer token (COVAGE_API_TOKEN).
	APIToken covage.Secret
	// Timeout bounds each upstream HTTP call (COVAGE_TIMEOUT).
	Timeout time.Duration
	// LoaderWait is how long a batching loader collects keys (LOADER_WAIT).
	LoaderWait time.Duration
	// LoaderMaxBatch caps the keys in one batch, 0 for no cap
	// (LOADER_MAX_BATCH).
	LoaderMaxBatch int
	// BillingSiteConcurrency bounds concurrent billing-site GETs per batch
	// (BILLING_SITE_CONCURRENCY).
	BillingSiteConcurrency int
	// QueryCacheSize is how many parsed queries are kept (QUERY_CACHE_SIZE).
	QueryCacheSize int
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel slog.Level
	// ShutdownDelay is how long the listener keeps serving after SIGTERM,
	// with /readyz answering 503, so load balancers stop sending traffic
	// before it closes (SHUTDOWN_DELAY).
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the drain of in-flight requests after the
	// delay (SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// Security holds the limits, browser protections and production mode
	// (security.go).
	Security Security
	// Perf holds PPROF and the demo load-test shape (perf.go).
	Perf Perf
	// Resilience holds the shared cache, retries, circuit breakers and the
	// credential mode (resilience.go).
	Resilience Resilience
	// Callers holds caller authentication and the trusted proxies
	// (callers.go).
	Callers Callers
	// Freshness holds SWR, refresh-ahead, prefetch and the 404 TTL
	// (freshness.go).
	Freshness Freshness
	// Redis holds the state shared by replicas (redis.go); off without
	// REDIS_URL.
	Redis Redis
	// Upstream holds the connection pool and the trusted CAs of the calls
	// to Covage (upstream.go).
	Upstream Upstream
}

// Demo reports whether the gateway runs against its built-in upstream.
func (c Config) Demo() bool { return c.CovageURL == "" }

// AuthMode names the upstream authentication in use.
func (c Config) AuthMode() string {
	switch {
	case c.TokenURL != "":
		return "oauth2-password"
	case c.APIToken != "":
		return "static-token"
	}
	return "none"
}

// Load reads the settings through getenv (os.Getenv in main) and reports
// every invalid one at once.
func Load(getenv func(string) string) (Config, error) {
	return load(&parser{getenv: getenv})
}

func load(p *parser) (Config, error) {
	getenv := p.getenv
	c := Config{
		Port:                   p.int("PORT", 8080, 0, 65535),
		AdminPort:              p.int("ADMIN_PORT", 0, 0, 65535),
		CovageURL:              strings.TrimRight(strings.TrimSpace(getenv("COVAGE_API_URL")), "/"),
		TokenURL:               strings.TrimSpace(getenv("COVAGE_TOKEN_URL")),
		Username:               getenv("COVAGE_USERNAME"),
		Password:               covage.Secret(getenv("COVAGE_PASSWORD")),
		ClientID:               p.str("COVAGE_CLIENT_ID", "api-client"),
		APIToken:               covage.Secret(strings.TrimSpace(getenv("COVAGE_API_TOKEN"))),
		Timeout:                p.duration("COVAGE_TIMEOUT", covage.DefaultTimeout),
		LoaderWait:             p.duration("LOADER_WAIT", 500*time.Microsecond),
		LoaderMaxBatch:         p.int("LOADER_MAX_BATCH", 0, 0, 1<<20),
		BillingSiteConcurrency: p.int("BILLING_SITE_CONCURRENCY", 8, 1, 256),
		QueryCacheSize:         p.int("QUERY_CACHE_SIZE", gateway.DefaultQueryCacheSize, 1, 1<<20),
		LogLevel:               p.level("LOG_LEVEL"),
		ShutdownDelay:          p.duration("SHUTDOWN_DELAY", 5*time.Second),
		ShutdownTimeout:        p.duration("SHUTDOWN_TIMEOUT", 15*time.Second),
	}
	c.Security = p.security()
	c.Perf = p.perf(c.Demo())
	c.Resilience = p.resilience(c)
	c.Callers = p.callers(c)
	c.Upstream = p.upstream()
	if c.AdminPort != 0 && c.AdminPort == c.Port {
		p.fail("ADMIN_PORT must differ from PORT")
	}
	if c.Security.Production() {
		// Production never serves sample data, nor profiles on the port
		// the internet reaches.
		if c.Demo() {
			p.fail("GATEWAY_ENV=production needs COVAGE_API_URL: without it the gateway would serve built-in demo data")
		}
		if c.Perf.Pprof && c.AdminPort == 0 {
			p.fail("PPROF=true in production needs ADMIN_PORT: profiles are never served on the public port")
		}
	}
	c.Freshness = p.freshness()
	c.Redis = p.redis()
	p.url("COVAGE_API_URL", c.CovageURL)
	p.url("COVAGE_TOKEN_URL", c.TokenURL)
	oauth := c.TokenURL != "" || c.Username != "" || c.Password != ""
	switch {
	case oauth && (c.TokenURL == "" || c.Username == "" || c.Password == ""):
		p.fail("COVAGE_TOKEN_URL, COVAGE_USERNAME and COVAGE_PASSWORD go together: set all three for the OAuth2 password grant")
	case oauth && c.APIToken != "":
		p.fail("COVAGE_API_TOKEN and the OAuth2 settings (COVAGE_TOKEN_URL, COVAGE_USERNAME, COVAGE_PASSWORD) exclude each other: set one")
	}
	if c.Demo() && (oauth || c.APIToken != "") {
		p.fail("credentials are set but COVAGE_API_URL is not: set COVAGE_API_URL, or unset the credentials for demo mode")
	}
	if c.Timeout <= 0 {
		p.fail("COVAGE_TIMEOUT must be positive")
	}
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, nil
}

type parser struct {
	getenv func(string) string
	errs   []error
	// defaults, when set, is told each setting's default as it is read
	// (Settings).
	defaults func(name, def string)
}

// def tells p.defaults, if any, the default of the setting name.
func (p *parser) def(name string, def any) {
	if p.defaults != nil {
		p.defaults(name, fmt.Sprint(def))
	}
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("  "+format, args...))
}

func (p *parser) str(name, def string) string {
	p.def(name, def)
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def, lo, hi int) int {
	p.def(name, def)
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
		return def
	}
	return n
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	p.def(name, def)
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.fail("%s=%q: want a duration such as 500us, 10s or 1m", name, v)
		return def
	}
	return d
}

func (p *parser) level(name string) slog.Level {
	p.def(name, "info")
	v := strings.TrimSpace(p.getenv(name))
	var l slog.Level
	if v == "" {
		return slog.LevelInfo
	}
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail("%s=%q: want debug, info, warn or error", name, v)
		return slog.LevelInfo
	}
	return l
}

func (p *parser) url(name, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("%s: want an absolute http(s) URL", name)
		return
	}
	if u.User != nil {
		p.fail("%s: must not carry credentials; use COVAGE_USERNAME/COVAGE_PASSWORD or COVAGE_API_TOKEN", name)
	}
}

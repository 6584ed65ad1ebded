// Package shared is the state the gateway's replicas share through Redis
// (or a Redis-compatible server such as Valkey): the second level of the
// cache with its cross-replica leases, automatic persisted queries and the
// global rate limit.
//
// Redis is never a single point of failure. Every operation is bounded by a
// short timeout; the first failure marks Redis down, after which every
// operation fails at once (without touching the network) until a background
// probe sees Redis answer again. Callers treat a failed operation as a miss
// and carry on with memory and Covage. Each change of state is logged once,
// as a warning when Redis goes down and as info when it comes back.
package shared

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Modes of REDIS_MODE: how REDIS_URL is read and which client is built.
const (
	ModeStandalone = "standalone"
	ModeCluster    = "cluster"
	ModeSentinel   = "sentinel"
)

// Defaults for Config.
const (
	DefaultTimeout       = 100 * time.Millisecond
	DefaultProbeInterval = time.Second
	DefaultPrefix        = "covage"
)

// ErrDown is returned, without any network call, while Redis is marked
// down.
var ErrDown = errors.New("redis is unavailable")

// Config configures a Redis.
type Config struct {
	// URL is redis:// or rediss://, with user, password and database, as
	// go-redis parses it. In cluster mode, more seed nodes are given as
	// addr=host:port query parameters; in sentinel mode the URL names a
	// sentinel, with master_name=… and more sentinels as addr=….
	URL string
	// Mode is ModeStandalone (default), ModeCluster or ModeSentinel.
	Mode string
	// Timeout bounds every operation, connecting included; DefaultTimeout
	// when zero.
	Timeout time.Duration
	// ProbeInterval is how often a down Redis is pinged;
	// DefaultProbeInterval when zero.
	ProbeInterval time.Duration
	// Prefix starts every key, so that several deployments can share one
	// Redis; DefaultPrefix when empty.
	Prefix string
	// Logger receives one line per change of state; slog.Default when nil.
	Logger *slog.Logger
	// OnOp observes every operation with its name and result (ok, miss,
	// error, timeout, skipped), e.g. for gateway_redis_operations_total.
	OnOp func(op, result string)
}

// Validate checks REDIS_URL and REDIS_MODE as New would, without
// connecting. Its errors never contain the URL, which may hold a password.
func Validate(rawURL, mode string) error {
	_, err := newClient(rawURL, mode, DefaultTimeout)
	return err
}

// newClient parses the URL for its mode with go-redis's own parsers and
// builds the client, every timeout set to timeout, one dial attempt and no
// retries, so that no operation outlasts it. It returns a constructor, so
// that Validate builds nothing.
func newClient(rawURL, mode string, timeout time.Duration) (func() redis.UniversalClient, error) {
	if !strings.HasPrefix(rawURL, "redis://") && !strings.HasPrefix(rawURL, "rediss://") {
		return nil, errors.New("want a redis:// or rediss:// URL")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	off := &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	switch mode {
	case "", ModeStandalone:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, redact(err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, o.DisableIdentity = true, -1, 1, true
		o.MaintNotificationsConfig = off
		return func() redis.UniversalClient { return redis.NewClient(o) }, nil
	case ModeCluster:
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, redact(err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, o.DisableIdentity = true, -1, 1, true
		o.MaintNotificationsConfig = off
		return func() redis.UniversalClient { return redis.NewClusterClient(o) }, nil
	case ModeSentinel:
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, redact(err)
		}
		if o.MasterName == "" {
			return nil, errors.New("sentinel mode needs master_name=… in the URL")
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
		o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, o.DisableIdentity = true, -1, 1, true
		return func() redis.UniversalClient { return redis.NewFailoverClient(o) }, nil
	}
	return nil, fmt.Errorf("mode %q: want %s, %s or %s", mode, ModeStandalone, ModeCluster, ModeSentinel)
}

// redact keeps go-redis's reason but never the URL, which url.Parse errors
// quote.
func redact(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "://") {
		return errors.New("the URL does not parse")
	}
	return errors.New(msg)
}

// Redis is the connection to Redis shared by the cache, APQ and the rate
// limiter, with the up/down state they all obey. It is safe for concurrent
// use.
type Redis struct {
	client   redis.UniversalClient
	timeout  time.Duration
	prefix   string
	log      *slog.Logger
	onOp     func(op, result string)
	interval time.Duration

	down atomic.Bool
	mu   sync.Mutex // serialises state changes, so each is logged once
	// lastErr is why Redis was last marked down, for /readyz.
	lastErr string

	stop chan struct{}
	done chan struct{}
}

// New builds the client and starts the probe. It does not wait for Redis:
// a Redis that is down at start is marked down (logged once) and joined
// when it appears.
func New(cfg Config) (*Redis, error) {
	build, err := newClient(cfg.URL, cfg.Mode, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	r := &Redis{
		client:   build(),
		timeout:  cmp.Or(max(cfg.Timeout, 0), DefaultTimeout),
		prefix:   cfg.Prefix,
		log:      cfg.Logger,
		onOp:     cfg.OnOp,
		interval: cfg.ProbeInterval,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if r.prefix == "" {
		r.prefix = DefaultPrefix
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.interval <= 0 {
		r.interval = DefaultProbeInterval
	}
	r.probe() // sets the initial state, within one timeout
	go r.run()
	return r, nil
}

// Close stops the probe and closes the connections.
func (r *Redis) Close() error {
	close(r.stop)
	<-r.done
	return r.client.Close()
}

// Key returns the prefix, then parts joined by colons.
func (r *Redis) Key(parts ...string) string {
	return r.prefix + ":" + strings.Join(parts, ":")
}

// Timeout is the bound of every operation.
func (r *Redis) Timeout() time.Duration { return r.timeout }

// Up reports whether Redis is believed reachable.
func (r *Redis) Up() bool { return !r.down.Load() }

// Check is the /readyz check: nil when Redis is up, otherwise why not. It
// makes one bounded PING when Redis is believed up, so it reports a Redis
// that went away since the last operation.
func (r *Redis) Check(ctx context.Context) error {
	if r.Up() {
		_ = r.Do(ctx, "ping", func(ctx context.Context, c redis.UniversalClient) error { return c.Ping(ctx).Err() })
	}
	if r.Up() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Errorf("redis unreachable (%s); serving from memory and Covage", r.lastErr)
}

// Do runs f with the client and a context bounded by the timeout, and
// records its result. While Redis is marked down it returns ErrDown at
// once. redis.Nil (a missing key) is a result, not a failure. A failure
// marks Redis down, unless the caller's own context ended first.
func (r *Redis) Do(ctx context.Context, op string, f func(ctx context.Context, c redis.UniversalClient) error) error {
	return r.do(ctx, time.Now().Add(r.timeout), op, f)
}

// do is Do with a deadline of its own, so that several operations can
// share one timeout; running out of it is Redis's fault, not the caller's.
func (r *Redis) do(ctx context.Context, deadline time.Time, op string, f func(ctx context.Context, c redis.UniversalClient) error) error {
	if r.down.Load() {
		r.observe(op, "skipped")
		return ErrDown
	}
	opCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	err := f(opCtx, r.client)
	switch {
	case err == nil:
		r.observe(op, "ok")
	case errors.Is(err, redis.Nil):
		r.observe(op, "miss")
	case ctx.Err() != nil:
		// The caller gave up; that says nothing about Redis.
		r.observe(op, "canceled")
	default:
		result := "error"
		if isTimeout(err) {
			result = "timeout"
		}
		r.observe(op, result)
		r.markDown(err)
	}
	return err
}

func (r *Redis) observe(op, result string) {
	if r.onOp != nil {
		r.onOp(op, result)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// markDown records a failure; the first one after a success is logged.
func (r *Redis) markDown(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastErr = describe(err)
	if r.down.Swap(true) {
		return
	}
	r.log.Warn("redis unavailable: serving from memory and Covage until it answers again", "reason", r.lastErr)
}

func (r *Redis) markUp() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.down.Swap(false) {
		return
	}
	r.log.Info("redis available again: shared cache, persisted queries and rate limit back on")
}

// describe names a failure without addresses or credentials: a timeout, a
// refused or dropped connection, or Redis's own error prefix.
func describe(err error) string {
	var ne net.Error
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.As(err, &ne):
		return "connection failed"
	}
	var re redis.Error
	if errors.As(err, &re) {
		word, _, _ := strings.Cut(re.Error(), " ")
		return "redis error " + word
	}
	return "connection failed"
}

// run pings Redis every interval while it is down.
func (r *Redis) run() {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if r.down.Load() {
				r.probe()
			}
		}
	}
}

func (r *Redis) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	err := r.client.Ping(ctx).Err()
	if err != nil {
		r.observe("ping", "error")
		r.markDown(err)
		return
	}
	r.observe("ping", "ok")
	r.markUp()
}

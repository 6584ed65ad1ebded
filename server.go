// Command gateway serves Covage's reference data as one typed GraphQL API.
//
// With no COVAGE_API_URL it starts a built-in demo upstream with sample
// data, so `go run .` works without a Covage account. See README.md for
// every setting.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/gcheadroom"
	"github.com/covage/gateway/internal/health"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/telemetry"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if done, err := commandLine(os.Args[1:], os.Getenv, os.Stdout); done {
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateway:", err)
			os.Exit(2)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, net.Listen); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// listenFunc opens a listener: net.Listen in main; tests bind loopback
// ports of their choosing.
type listenFunc func(network, address string) (net.Listener, error)

// run serves until ctx is cancelled (SIGTERM or SIGINT in main), then
// drains (drain.go).
func run(ctx context.Context, getenv func(string) string, listen listenFunc) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))
	slog.SetDefault(log)

	// GOGC, when set, is the operator's own choice.
	if getenv("GOGC") == "" {
		defer gcheadroom.Start(uint64(cfg.Perf.GCHeadroomMB) << 20)()
	}

	demoMode := cfg.Demo()
	if demoMode {
		stopDemo, err := startDemo(&cfg, log)
		if err != nil {
			return err
		}
		defer stopDemo()
	}

	obs, err := newObservability(ctx, getenv, cfg.Upstream)
	if err != nil {
		return err
	}
	defer obs.close(context.Background(), log)

	client, err := covage.New(resilient(cfg, covage.Config{
		BaseURL:    cfg.CovageURL,
		Timeout:    cfg.Timeout,
		UserAgent:  obs.build.UserAgent(),
		Auth:       upstreamAuth(cfg),
		Logger:     log,
		HTTPClient: obs.httpClient(),
		OnDrift:    obs.metrics.Drift,
		Headers:    telemetry.SetRequestID,
		OnBreakerChange: func(endpoint, _, to string) {
			obs.metrics.BreakerState(endpoint, to)
		},
	}))
	if err != nil {
		return err
	}
	redis, err := connectRedis(cfg, log, obs.metrics)
	if err != nil {
		return err
	}
	if redis != nil {
		defer redis.Close()
	}
	upstream, err := sharedCache(cfg, client, obs.metrics, sharedLevel(cfg, redis, obs.metrics))
	if err != nil {
		return err
	}
	warming := warmUp(ctx, cfg, upstream, log)

	security, err := securityOptions(cfg.Security)
	if err != nil {
		return err
	}
	callers, err := callerAuth(ctx, cfg.Callers, log)
	if err != nil {
		return err
	}
	if callers != nil {
		defer func() { _ = callers.Close(context.Background()) }()
	}
	security.Authenticator = callers
	security.TrustedProxies = cfg.Callers.TrustedProxies
	shareSecurity(cfg, redis, &security)

	life := &health.Lifecycle{}
	opts := gateway.Options{
		Upstream: upstream,
		Loaders: loaders.Config{
			Wait:            cfg.LoaderWait,
			MaxBatch:        cfg.LoaderMaxBatch,
			BillingSitePool: cfg.BillingSiteConcurrency,
			IsNotFound:      func(err error) bool { return errors.Is(err, covage.ErrNotFound) },
		},
		QueryCacheSize: cfg.QueryCacheSize,
		Logger:         log,
		Security:       security,
		Pprof:          cfg.Perf.Pprof,
		// Metrics and profiles are never on the public port in production,
		// and move to the admin port wherever there is one.
		HideOperations: cfg.AdminPort != 0 || cfg.Security.Production(),
		Metrics:        obs.metrics,
		Tracer:         obs.tracer,
		Ready:          obs.readiness(client, cfg.Resilience.PassThrough(), life, warming, redis),
		Build:          obs.build,
		PassThrough:    cfg.Resilience.PassThrough(),
		// With caller authentication, answers are the caller's own to HTTP
		// caches: private, and varying on Authorization.
		CallerSpecific: callers != nil,
		ResponseCache: gateway.ResponseCache{
			MaxBytes: int64(cfg.Resilience.ResponseCacheMB) << 20,
			OnEvent:  func(result string) { obs.metrics.CacheEvent("response", result) },
		},
		StreamMinBytes: int64(cfg.Perf.StreamMinKB) << 10,
	}
	if opts.PassThrough {
		opts.VerifyBearer = client.VerifyBearer
	}
	srv := &http.Server{
		Handler:           gateway.New(opts),
		ReadHeaderTimeout: cfg.Security.ReadHeaderTimeout,
		ReadTimeout:       cfg.Security.ReadTimeout,
		WriteTimeout:      cfg.Security.WriteTimeout,
		IdleTimeout:       cfg.Security.IdleTimeout,
		MaxHeaderBytes:    cfg.Security.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	servers := []*listening{{name: "public", srv: srv, addr: fmt.Sprintf(":%d", cfg.Port)}}
	if cfg.AdminPort != 0 {
		servers = append(servers, &listening{name: "admin", addr: fmt.Sprintf(":%d", cfg.AdminPort), srv: &http.Server{
			Handler:           gateway.Admin(opts),
			ReadHeaderTimeout: cfg.Security.ReadHeaderTimeout,
			// A CPU profile or trace streams for as long as asked (30 s by
			// default), so the admin port's write timeout leaves room.
			WriteTimeout: 2 * time.Minute,
			IdleTimeout:  cfg.Security.IdleTimeout,
			ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}})
	}
	for _, l := range servers {
		if l.ln, err = listen("tcp", l.addr); err != nil {
			for _, bound := range servers {
				if bound.ln != nil {
					_ = bound.ln.Close()
				}
			}
			return fmt.Errorf("%s listener: %w", l.name, err)
		}
	}
	errc := make(chan error, len(servers))
	for _, l := range servers {
		go func() { errc <- l.srv.Serve(l.ln) }()
	}
	life.Serve()
	public := servers[0].ln.Addr()
	auth := cfg.AuthMode()
	if demoMode {
		// The demo upstream's own account, not Covage's: say so, so that
		// nobody takes it for a configured credential.
		auth += " (the demo upstream's own demo account, not a Covage credential)"
	}
	attrs := []any{"addr", public.String(), "upstream", cfg.CovageURL, "auth", auth, "callers", cfg.Callers.Mode(),
		"env", cfg.Security.Env, "version", obs.build.Version, "revision", obs.build.Revision,
		"tracing", telemetry.TracingEnabled(getenv), "redis", cfg.Redis.Enabled()}
	if !opts.Security.DisablePlayground {
		attrs = append(attrs, "playground", fmt.Sprintf("http://localhost:%d/", public.(*net.TCPAddr).Port))
	}
	if len(servers) > 1 {
		attrs = append(attrs, "admin_addr", servers[1].ln.Addr().String())
	}
	log.Info("gateway listening", attrs...)

	select {
	case err := <-errc:
		// A listener failed on its own; stop the others.
		for _, l := range servers {
			_ = l.srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	return drain(log, life, cfg.ShutdownDelay, cfg.ShutdownTimeout, servers)
}

func upstreamAuth(cfg config.Config) covage.Auth {
	switch cfg.AuthMode() {
	case "oauth2-password":
		return covage.PasswordAuth(cfg.TokenURL, cfg.ClientID, cfg.Username, cfg.Password)
	case "static-token":
		return covage.StaticToken(cfg.APIToken)
	}
	return nil
}

// startDemo serves the built-in upstream on a loopback port and points cfg
// at it, with the same OAuth2 password grant a real deployment uses, and
// with DEMO_TLS over HTTPS and HTTP/2 with a certificate cfg then trusts.
func startDemo(cfg *config.Config, log *slog.Logger) (func(), error) {
	const user, password = "demo", "demo"
	var cert *demo.Certificate
	if cfg.Perf.DemoTLS {
		c, err := demo.SelfSigned()
		if err != nil {
			return nil, err
		}
		if err := cfg.Upstream.Trust(c.PEM); err != nil {
			return nil, fmt.Errorf("demo upstream: %w", err)
		}
		cert = &c
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo upstream: %w", err)
	}
	data := demo.Sample()
	if d := cfg.Perf.DemoSize; d.Generated() {
		data = demo.Generate(d.Projects, d.Ennis, d.Clients)
	}
	upstream := demo.New(data, demo.WithCredentials(user, password), demo.WithLatency(cfg.Perf.DemoLatency))
	// demo.Start mounts GET /_demo/stats, the upstream call and
	// connection counters that cmd/loadtest -upstream-stats reads.
	base, stopDemo := demo.Start(upstream, ln, cert)
	cfg.CovageURL = base
	cfg.TokenURL = base + demo.TokenPath
	cfg.Username, cfg.Password = user, covage.Secret(password)
	log.Warn("DEMO MODE: COVAGE_API_URL is not set, serving built-in sample data, not Covage's. Set COVAGE_API_URL and credentials to use the real API.",
		"demo_upstream", base)
	return func() { _ = stopDemo() }, nil
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/covage/gateway/internal/health"
)

// listening is one HTTP server and the listener it serves.
type listening struct {
	name string
	addr string
	ln   net.Listener
	srv  *http.Server
}

// drain shuts down without losing a request. /readyz turns 503 at once, so
// the load balancer stops sending new requests; the listeners keep serving
// for delay (SHUTDOWN_DELAY), the time load balancers take to notice; then
// they close and in-flight requests get up to timeout (SHUTDOWN_TIMEOUT) to
// finish. The public server drains first and the admin one last, so the
// drain itself can be watched.
func drain(log *slog.Logger, life *health.Lifecycle, delay, timeout time.Duration, servers []*listening) error {
	life.Drain()
	log.Info("draining: readiness is 503, still serving", "delay", delay.String(), "timeout", timeout.String())
	time.Sleep(delay)
	log.Info("shutting down: listeners closed, waiting for in-flight requests", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, l := range servers {
		if err := l.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = l.srv.Close()
		}
	}
	return errors.Join(errs...)
}

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/loaders"
)

const (
	// prefetchTimeout bounds the start-up prefetch of every list.
	prefetchTimeout = 30 * time.Second
	// readyHold is the longest READY_AFTER_PREFETCH keeps /readyz at 503:
	// a Covage outage must never keep a replica unready.
	readyHold = 5 * time.Second
)

// warmUp starts the shared cache's background work: refresh-ahead until
// ctx ends, and the prefetch when COVAGE_PREFETCH asks for it. It returns
// what /readyz asks while the prefetch runs (READY_AFTER_PREFETCH), or nil.
// In pass-through mode the cache itself does neither: there is no caller
// token outside a request.
func warmUp(ctx context.Context, cfg config.Config, upstream loaders.Upstream, log *slog.Logger) func() bool {
	c, ok := upstream.(*cache.Cache)
	if !ok {
		return nil // the shared cache is off: nothing to warm
	}
	go c.Run(ctx)
	if !cfg.Freshness.Prefetch || cfg.Resilience.PassThrough() {
		return nil
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		pctx, cancel := context.WithTimeout(ctx, prefetchTimeout)
		defer cancel()
		if err := c.Prefetch(pctx); err != nil {
			log.Warn("prefetch of Covage's lists failed; they will be fetched on first use", "err", err, "duration", time.Since(start).String())
			return
		}
		log.Info("prefetched Covage's lists", "duration", time.Since(start).String())
	}()
	if !cfg.Freshness.ReadyAfterPrefetch {
		return nil
	}
	return func() bool {
		select {
		case <-done:
			return false
		default:
			return time.Since(start) < readyHold
		}
	}
}

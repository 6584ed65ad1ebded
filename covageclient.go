package main

import (
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
)

// resilient adds the retry and circuit breaker settings to the client's
// configuration and, in pass-through mode, drops any configured credential:
// each caller's own token is the only one sent.
func resilient(cfg config.Config, cc covage.Config) covage.Config {
	r := cfg.Resilience
	cc.MaxAttempts = r.RetryMaxAttempts
	cc.MaxRetryAfter = r.RetryAfterMax
	cc.BreakerFailures = r.BreakerFailures
	cc.BreakerCooldown = r.BreakerCooldown
	if r.PassThrough() {
		cc.Auth = nil
	}
	if log := cc.Logger; log != nil && cc.OnBreakerChange == nil {
		cc.OnBreakerChange = func(endpoint, from, to string) {
			log.Warn("covage circuit breaker", "endpoint", endpoint, "from", from, "to", to)
		}
	}
	return cc
}

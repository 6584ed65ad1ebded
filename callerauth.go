package main

import (
	"context"
	"log/slog"

	"github.com/covage/gateway/internal/auth"
	"github.com/covage/gateway/internal/config"
)

// callerAuth builds the caller authenticator, or nil when callers are not
// authenticated (AUTH_MODE=none, or pass-through mode).
func callerAuth(ctx context.Context, c config.Callers, log *slog.Logger) (*auth.Authenticator, error) {
	if !c.Enabled() {
		return nil, nil
	}
	cfg := auth.Config{RequiredScope: c.RequiredScope, Logger: log}
	if c.JWT {
		cfg.JWKSURL, cfg.Issuer, cfg.Audience = c.JWKSURL, c.Issuer, c.Audience
	}
	if c.APIKey {
		cfg.APIKeysFile = c.APIKeysFile
	}
	return auth.New(ctx, cfg)
}

package main

import (
	"context"
	"log/slog"

	"github.com/covage/gateway/internal/auth"
	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/gateway"
)

// securityOptions turns the security settings into the handler's options,
// loading the persisted-query manifest if one is set.
func securityOptions(s config.Security) (gateway.Security, error) {
	g := gateway.Security{
		Limits: gateway.Limits{
			MaxDepth:        s.MaxDepth,
			MaxAliases:      s.MaxAliases,
			MaxRootFields:   s.MaxRootFields,
			MaxTokens:       s.MaxTokens,
			MaxCost:         s.MaxCost,
			ListSize:        s.CostListSize,
			MaxStringLength: s.MaxStringLength,

			MaxListArgument:          s.MaxListArgument,
			MaxEntityRepresentations: s.MaxEntityRepresentations,
			MaxResponseBytes:         s.MaxResponseBytes,
		},
		MaxBodyBytes:         s.MaxBodyBytes,
		RequestTimeout:       s.RequestTimeout,
		CORSAllowedOrigins:   s.CORSAllowedOrigins,
		APQCacheSize:         s.APQCacheSize,
		PersistedOnly:        s.PersistedQueriesOnly,
		DisableIntrospection: !s.Introspection,
		DisableSuggestions:   !s.Suggestions,
		DisablePlayground:    !s.Playground,
		RateLimit:            gateway.RateLimit{RPS: s.RateLimitRPS, Burst: s.RateLimitBurst, Clients: s.RateLimitClients},
	}
	if s.PersistedQueriesManifest != "" {
		m, err := gateway.LoadManifest(s.PersistedQueriesManifest)
		if err != nil {
			return gateway.Security{}, err
		}
		g.Manifest = m
	}
	return g, nil
}

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

package main

import (
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

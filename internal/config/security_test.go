package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSecurityModes(t *testing.T) {
	cases := []struct {
		name                                   string
		env                                    map[string]string
		introspection, suggestions, playground bool
		rps                                    float64
	}{
		{"development by default", nil, true, true, true, 0},
		{"production turns them off and rate limits", map[string]string{"GATEWAY_ENV": "production", "COVAGE_API_URL": "https://api.example", "AUTH_MODE": "none"}, false, false, false, 10},
		{"production with overrides", map[string]string{"GATEWAY_ENV": "Production", "COVAGE_API_URL": "https://api.example", "AUTH_MODE": "none", "GRAPHQL_INTROSPECTION": "true", "PLAYGROUND": "1", "RATE_LIMIT_RPS": "0"}, true, false, true, 0},
		{"development with a rate limit", map[string]string{"RATE_LIMIT_RPS": "2.5", "GRAPHQL_SUGGESTIONS": "false"}, true, false, true, 2.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			require.NoError(t, err)
			s := c.Security
			require.Equal(t, tc.introspection, s.Introspection)
			require.Equal(t, tc.suggestions, s.Suggestions)
			require.Equal(t, tc.playground, s.Playground)
			require.Equal(t, tc.rps, s.RateLimitRPS)
		})
	}
}

func TestSecurityDefaults(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	s := c.Security
	require.Equal(t, EnvDevelopment, s.Env)
	require.Equal(t, []int{10, 30, 20, 10000, 1_000_000, 5, 1024}, []int{s.MaxDepth, s.MaxAliases, s.MaxRootFields, s.MaxTokens, s.MaxCost, s.CostListSize, s.MaxStringLength})
	require.Equal(t, []int{100, 1000, 32 << 20}, []int{s.MaxListArgument, s.MaxEntityRepresentations, s.MaxResponseBytes})
	require.Equal(t, int64(1<<20), s.MaxBodyBytes)
	require.Equal(t, 64<<10, s.MaxHeaderBytes)
	require.Equal(t, []time.Duration{30 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second, 120 * time.Second},
		[]time.Duration{s.RequestTimeout, s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout})
	require.Empty(t, s.CORSAllowedOrigins)
	require.Equal(t, 100, s.APQCacheSize)
	require.Equal(t, 20, s.RateLimitBurst)
	require.Equal(t, 10000, s.RateLimitClients)
}

func TestSecuritySettings(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	require.NoError(t, os.WriteFile(manifest, []byte(`{}`), 0o600))
	c, err := Load(env(map[string]string{
		"MAX_DEPTH": "7", "MAX_COST": "500", "MAX_BODY_BYTES": "4096", "REQUEST_TIMEOUT": "5s",
		"MAX_LIST_ARGUMENT": "7", "MAX_ENTITY_REPRESENTATIONS": "70", "MAX_RESPONSE_BYTES": "65536",
		"CORS_ALLOWED_ORIGINS":       " https://app.example.com/, http://localhost:3000 ,",
		"PERSISTED_QUERIES_MANIFEST": manifest, "PERSISTED_QUERIES_ONLY": "true",
	}))
	require.NoError(t, err)
	s := c.Security
	require.Equal(t, 7, s.MaxDepth)
	require.Equal(t, 500, s.MaxCost)
	require.Equal(t, []int{7, 70, 65536}, []int{s.MaxListArgument, s.MaxEntityRepresentations, s.MaxResponseBytes})
	require.Equal(t, int64(4096), s.MaxBodyBytes)
	require.Equal(t, 5*time.Second, s.RequestTimeout)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:3000"}, s.CORSAllowedOrigins)
	require.True(t, s.PersistedQueriesOnly)
	require.Equal(t, manifest, s.PersistedQueriesManifest)
}

func TestSecurityInvalid(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"unknown environment", map[string]string{"GATEWAY_ENV": "staging"}, []string{"GATEWAY_ENV"}},
		{"bad booleans", map[string]string{"PLAYGROUND": "yes please", "GRAPHQL_INTROSPECTION": "maybe"}, []string{"PLAYGROUND", "GRAPHQL_INTROSPECTION"}},
		{"limits out of range", map[string]string{"MAX_DEPTH": "0", "MAX_COST": "-1", "MAX_BODY_BYTES": "10", "RATE_LIMIT_RPS": "fast"},
			[]string{"MAX_DEPTH", "MAX_COST", "MAX_BODY_BYTES", "RATE_LIMIT_RPS"}},
		{"write timeout shorter than the request", map[string]string{"REQUEST_TIMEOUT": "90s"}, []string{"WRITE_TIMEOUT"}},
		{"zero timeout", map[string]string{"IDLE_TIMEOUT": "0s"}, []string{"IDLE_TIMEOUT must be positive"}},
		{"wildcard origin", map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, []string{"CORS_ALLOWED_ORIGINS"}},
		{"origin with a path", map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/x"}, []string{"CORS_ALLOWED_ORIGINS"}},
		{"safelist without manifest", map[string]string{"PERSISTED_QUERIES_ONLY": "true"}, []string{"needs PERSISTED_QUERIES_MANIFEST"}},
		{"missing manifest", map[string]string{"PERSISTED_QUERIES_MANIFEST": "/nonexistent/manifest.json"}, []string{"PERSISTED_QUERIES_MANIFEST"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

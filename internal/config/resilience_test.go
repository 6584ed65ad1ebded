package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestResilience(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, r Resilience)
		wantErr []string
	}{
		{"defaults", nil, func(t *testing.T, r Resilience) {
			require.Equal(t, 5*time.Minute, r.CacheTTL)
			require.Len(t, r.EndpointTTL, 7)
			for _, ttl := range r.EndpointTTL {
				require.Equal(t, 5*time.Minute, ttl)
			}
			require.Equal(t, 24*time.Hour, r.StaleTTL)
			require.Equal(t, 10000, r.CacheMaxEntries)
			require.Equal(t, 32, r.ResponseCacheMB)
			require.Equal(t, 3, r.RetryMaxAttempts)
			require.Equal(t, 5*time.Second, r.RetryAfterMax)
			require.Equal(t, 5, r.BreakerFailures)
			require.Equal(t, 30*time.Second, r.BreakerCooldown)
			require.False(t, r.PassThrough())
		}, nil},
		{"global and per-endpoint TTLs", map[string]string{"COVAGE_CACHE_TTL": "1m", "COVAGE_CACHE_TTL_ENNI": "10s", "COVAGE_CACHE_TTL_BILLING_SITE": "0"},
			func(t *testing.T, r Resilience) {
				require.Equal(t, time.Minute, r.EndpointTTL["project"])
				require.Equal(t, 10*time.Second, r.EndpointTTL["enni"])
				require.Zero(t, r.EndpointTTL["billing_site"])
			}, nil},
		{"cache off", map[string]string{"COVAGE_CACHE_TTL": "0"}, func(t *testing.T, r Resilience) {
			require.Zero(t, r.CacheTTL)
			require.Zero(t, r.EndpointTTL["terminate_reason"])
		}, nil},
		{"response cache off", map[string]string{"RESPONSE_CACHE_MB": "0"}, func(t *testing.T, r Resilience) {
			require.Zero(t, r.ResponseCacheMB)
		}, nil},
		{"passthrough", map[string]string{"COVAGE_CREDENTIALS": "PassThrough"}, func(t *testing.T, r Resilience) {
			require.True(t, r.PassThrough())
		}, nil},
		{"passthrough with a configured credential", map[string]string{"COVAGE_API_URL": "https://api.example", "COVAGE_API_TOKEN": "t", "COVAGE_CREDENTIALS": "passthrough"},
			nil, []string{"uses no configured credential"}},
		{"bad values, all reported", map[string]string{"COVAGE_CREDENTIALS": "mine", "COVAGE_RETRY_MAX_ATTEMPTS": "0", "COVAGE_BREAKER_FAILURES": "-1",
			"COVAGE_CACHE_TTL_ENNI": "soon", "COVAGE_BREAKER_COOLDOWN": "0s", "COVAGE_STALE_TTL": "-1h", "COVAGE_CACHE_MAX_ENTRIES": "0",
			"RESPONSE_CACHE_MB": "-1"},
			nil, []string{"COVAGE_CREDENTIALS", "COVAGE_RETRY_MAX_ATTEMPTS", "COVAGE_BREAKER_FAILURES", "COVAGE_CACHE_TTL_ENNI",
				"COVAGE_BREAKER_COOLDOWN", "COVAGE_STALE_TTL", "COVAGE_CACHE_MAX_ENTRIES", "RESPONSE_CACHE_MB"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			tc.check(t, c.Resilience)
		})
	}
}

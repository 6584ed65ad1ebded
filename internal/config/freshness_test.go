package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFreshness(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    Freshness
		wantErr string
	}{
		{"defaults", nil, Freshness{SWR: time.Minute, RefreshAhead: true, NotFoundTTL: time.Minute}, ""},
		{"all off", map[string]string{"COVAGE_CACHE_SWR": "0", "COVAGE_REFRESH_AHEAD": "false", "COVAGE_CACHE_TTL_NOT_FOUND": "0"}, Freshness{}, ""},
		{"prefetch and readiness", map[string]string{"COVAGE_PREFETCH": "true", "READY_AFTER_PREFETCH": "true", "COVAGE_CACHE_SWR": "30s"},
			Freshness{SWR: 30 * time.Second, RefreshAhead: true, Prefetch: true, ReadyAfterPrefetch: true, NotFoundTTL: time.Minute}, ""},
		{"readiness without prefetch", map[string]string{"READY_AFTER_PREFETCH": "true"}, Freshness{}, "READY_AFTER_PREFETCH"},
		{"bad duration", map[string]string{"COVAGE_CACHE_SWR": "soon"}, Freshness{}, "COVAGE_CACHE_SWR"},
		{"negative", map[string]string{"COVAGE_CACHE_TTL_NOT_FOUND": "-1s"}, Freshness{}, "COVAGE_CACHE_TTL_NOT_FOUND"},
		{"bad bool", map[string]string{"COVAGE_REFRESH_AHEAD": "maybe"}, Freshness{}, "COVAGE_REFRESH_AHEAD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c.Freshness)
		})
	}
}

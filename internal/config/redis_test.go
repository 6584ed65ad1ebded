package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedis(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"unset is memory only", nil, nil},
		{"standalone with user, password and database", map[string]string{"REDIS_URL": "rediss://gw:hunter2@redis.internal:6380/2"}, nil},
		{"cluster seeds", map[string]string{"REDIS_URL": "redis://gw:hunter2@node1:6379?addr=node2:6379&addr=node3:6379", "REDIS_MODE": "cluster"}, nil},
		{"sentinel", map[string]string{"REDIS_URL": "redis://gw:hunter2@sentinel1:26379/0?master_name=covage&addr=sentinel2:26379", "REDIS_MODE": "sentinel"}, nil},
		{"sentinel without master", map[string]string{"REDIS_URL": "redis://gw:hunter2@sentinel1:26379/0", "REDIS_MODE": "sentinel"}, []string{"REDIS_URL", "master_name"}},
		{"not redis", map[string]string{"REDIS_URL": "http://gw:hunter2@redis:6379"}, []string{"REDIS_URL", "redis://"}},
		{"unparsable", map[string]string{"REDIS_URL": "redis://gw:hunter2@redis:6379/x?bogus=1"}, []string{"REDIS_URL"}},
		{"bad mode", map[string]string{"REDIS_MODE": "ring"}, []string{"REDIS_MODE"}},
		{"lease shorter than two timeouts", map[string]string{"REDIS_TIMEOUT": "200ms", "REDIS_LEASE_TTL": "300ms"}, []string{"REDIS_LEASE_TTL"}},
		{"bad numbers", map[string]string{"REDIS_TIMEOUT": "0s", "REDIS_MAX_VALUE_BYTES": "10", "REDIS_APQ_TTL": "1ms", "REDIS_KEY_PREFIX": "a{b}"},
			[]string{"REDIS_TIMEOUT", "REDIS_MAX_VALUE_BYTES", "REDIS_APQ_TTL", "REDIS_KEY_PREFIX"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.Contains(t, err.Error(), w)
				}
				require.NotContains(t, err.Error(), "hunter2", "the password never reaches an error")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.env["REDIS_URL"] != "", c.Redis.Enabled())
		})
	}
}

func TestRedisDefaults(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, Redis{Mode: "standalone", Timeout: 100 * time.Millisecond, Prefix: "covage", MaxValueBytes: 4 << 20,
		LeaseTTL: 300 * time.Millisecond, APQTTL: 24 * time.Hour}, c.Redis)
}

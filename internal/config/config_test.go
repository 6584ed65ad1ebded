package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		mode    string
		wantErr []string
	}{
		{"empty is demo mode", nil, "none", nil},
		{"oauth2", map[string]string{"COVAGE_API_URL": "https://api.example/", "COVAGE_TOKEN_URL": "https://auth.example/token", "COVAGE_USERNAME": "u", "COVAGE_PASSWORD": "p"}, "oauth2-password", nil},
		{"static token", map[string]string{"COVAGE_API_URL": "https://api.example", "COVAGE_API_TOKEN": "t"}, "static-token", nil},
		{"half oauth2", map[string]string{"COVAGE_API_URL": "https://api.example", "COVAGE_USERNAME": "u"}, "", []string{"go together"}},
		{"both modes", map[string]string{"COVAGE_API_URL": "https://api.example", "COVAGE_API_TOKEN": "t", "COVAGE_TOKEN_URL": "https://a/t", "COVAGE_USERNAME": "u", "COVAGE_PASSWORD": "p"}, "", []string{"exclude each other"}},
		{"credentials without URL", map[string]string{"COVAGE_API_TOKEN": "t"}, "", []string{"COVAGE_API_URL is not"}},
		{"bad values, all reported", map[string]string{"PORT": "x", "COVAGE_TIMEOUT": "soon", "LOG_LEVEL": "loud", "BILLING_SITE_CONCURRENCY": "0", "COVAGE_API_URL": "ftp://x"},
			"", []string{"PORT", "COVAGE_TIMEOUT", "LOG_LEVEL", "BILLING_SITE_CONCURRENCY", "COVAGE_API_URL"}},
		{"userinfo in URL", map[string]string{"COVAGE_API_URL": "https://user:hunter2@api.example"}, "", []string{"must not carry credentials"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					require.Contains(t, err.Error(), w)
				}
				require.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.mode, c.AuthMode())
			require.False(t, strings.HasSuffix(c.CovageURL, "/"))
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.True(t, c.Demo())
	require.Equal(t, 8080, c.Port)
	require.Equal(t, 10*time.Second, c.Timeout)
	require.Equal(t, 500*time.Microsecond, c.LoaderWait)
	require.Equal(t, 8, c.BillingSiteConcurrency)
	require.Equal(t, "api-client", c.ClientID)
}

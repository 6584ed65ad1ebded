package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/config"
)

// TestCommandLine checks that the help and version flags print and stop,
// that anything else is refused, and that no flag starts the gateway.
func TestCommandLine(t *testing.T) {
	env := func(string) string { return "" }
	tests := []struct {
		name     string
		args     []string
		done     bool
		wantErr  bool
		contains []string
	}{
		{"no flags start the gateway", nil, false, false, nil},
		{"-h", []string{"-h"}, true, false, []string{"Usage: gateway", "MAX_DEPTH", "10", "COVAGE_STALE_TTL"}},
		{"-help", []string{"-help"}, true, false, []string{"Usage: gateway", "PORT"}},
		{"--help", []string{"--help"}, true, false, []string{"Usage: gateway", "REDIS_URL"}},
		{"-version", []string{"-version"}, true, false, []string{"gateway dev (revision "}},
		{"an unknown flag", []string{"-port=9090"}, true, true, nil},
		{"an argument", []string{"serve"}, true, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			done, err := commandLine(tc.args, env, &out)
			require.Equal(t, tc.done, done)
			require.Equal(t, tc.wantErr, err != nil, "%v", err)
			for _, s := range tc.contains {
				require.Contains(t, out.String(), s)
			}
		})
	}
}

// TestHelpListsEverySettingWithItsDefault checks -h against config.Load
// itself, through config.Settings, and the README against -h: every setting
// the gateway reads is printed with its default, and documented.
func TestHelpListsEverySettingWithItsDefault(t *testing.T) {
	var out bytes.Buffer
	_, err := commandLine([]string{"-h"}, func(string) string { return "" }, &out)
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	settings := config.Settings(func(string) string { return "" })
	require.Greater(t, len(settings), 50)
	for _, s := range settings {
		line := regexp.MustCompile(`(?m)^  ` + s.Name + ` +(.*)$`).FindStringSubmatch(out.String())
		require.NotNil(t, line, "-h does not list %s", s.Name)
		require.Equal(t, s.Default, line[1], s.Name)
		documented := bytes.Contains(readme, []byte("`"+s.Name+"`")) || bytes.Contains(readme, []byte("`"+s.Name+"="))
		if suffix, ok := strings.CutPrefix(s.Name, "COVAGE_CACHE_TTL_"); ok && !documented {
			documented = bytes.Contains(readme, []byte("`_"+suffix+"`"))
		}
		require.True(t, documented, "README.md does not document %s", s.Name)
	}
	prod := config.Settings(func(k string) string {
		return map[string]string{"GATEWAY_ENV": "production", "COVAGE_API_URL": "https://covage.example"}[k]
	})
	defaults := map[string]string{}
	for _, s := range prod {
		defaults[s.Name] = s.Default
	}
	require.Equal(t, "10", defaults["RATE_LIMIT_RPS"], "production's defaults")
	require.Equal(t, "false", defaults["PLAYGROUND"], "production's defaults")
}

package covage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecretRedaction(t *testing.T) {
	const value = "hunter2-s3cret"
	s := Secret(value)
	require.Equal(t, value, s.Reveal())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		t.Run(verb, func(t *testing.T) {
			got := fmt.Sprintf(verb, s)
			require.NotContains(t, got, value)
			require.NotContains(t, got, fmt.Sprintf("%x", value))
			require.Contains(t, got, redacted)
		})
	}
	t.Run("pointer", func(t *testing.T) {
		require.Equal(t, redacted, fmt.Sprintf("%v", &s))
	})
	t.Run("inside a struct", func(t *testing.T) {
		v := struct {
			User     string
			Password Secret
		}{"alice", s}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			got := fmt.Sprintf(verb, v)
			require.NotContains(t, got, value, verb)
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.JSONEq(t, `{"User":"alice","Password":"[REDACTED]"}`, string(b))
	})
	t.Run("slog json", func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		log.Info("login", "password", s, slog.Any("token", s), slog.Group("auth", "secret", s))
		log.Info("struct", "creds", struct{ Token Secret }{s})
		require.NotContains(t, buf.String(), value)
		require.Contains(t, buf.String(), `"password":"[REDACTED]"`)
		require.Contains(t, buf.String(), `"auth":{"secret":"[REDACTED]"}`)
		require.Contains(t, buf.String(), `"creds":{"Token":"[REDACTED]"}`)
	})
	t.Run("slog text", func(t *testing.T) {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "password", s)
		require.NotContains(t, buf.String(), value)
		require.Contains(t, buf.String(), "password=[REDACTED]")
	})
}

func TestAuthRedaction(t *testing.T) {
	const password, token = "pw-s3cret", "tok-s3cret"
	for _, auth := range []Auth{
		PasswordAuth("https://sso.example/token", "api-client", "alice", password),
		StaticToken(token),
	} {
		cfg := Config{BaseURL: "https://api.covage.com", Auth: auth, Logger: quietLogger()}
		c, err := New(cfg)
		require.NoError(t, err)
		if pa, ok := auth.(*passwordAuth); ok {
			pa.tok = nil // a cached token must not show either
		}
		for _, v := range []any{auth, cfg, &cfg, c} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
				got := fmt.Sprintf(verb, v)
				require.NotContains(t, got, password, verb)
				require.NotContains(t, got, token, verb)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "auth", auth)
		require.NotContains(t, buf.String(), password)
		require.NotContains(t, buf.String(), token)
	}
}

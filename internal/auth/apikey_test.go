package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func digestOf(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

func writeKeys(t *testing.T, path string, mtime time.Time, lines ...string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	// An explicit modification time, so a rewrite within the file system's
	// time granularity is still seen as a change.
	require.NoError(t, os.Chtimes(path, mtime, mtime))
}

func TestAPIKeys(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, c.Now(),
		"# billing service",
		digestOf("key-billing")+" billing",
		"",
		strings.ToUpper(digestOf("key-anon")),
	)
	a, err := New(context.Background(), Config{APIKeysFile: path, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	check := func(key string) (string, *Refusal) {
		caller, ref := a.Authenticate(request(APIKeyHeader, key))
		return caller.Key(), ref
	}
	id, ref := check("key-billing")
	require.Nil(t, ref)
	require.Equal(t, "apikey:billing", id)
	id, ref = check("key-anon")
	require.Nil(t, ref)
	require.Equal(t, "apikey:"+digestOf("key-anon")[:16], id, "a key without a name is named by its digest")

	_, ref = check("key-unknown")
	require.NotNil(t, ref)
	require.Equal(t, 401, ref.Status)
	require.Contains(t, ref.Challenge, "Bearer")
	_, ref = check(digestOf("key-billing"))
	require.NotNil(t, ref, "the digest itself is not a key")

	_, ref = a.Authenticate(request("", ""))
	require.NotNil(t, ref)
	require.Contains(t, ref.Message, APIKeyHeader)

	// Revoke billing, add ops. Within keyFileCheckEvery the file is not
	// looked at; after it, the change applies.
	writeKeys(t, path, c.Now().Add(time.Minute), digestOf("key-ops")+" ops")
	_, ref = check("key-billing")
	require.Nil(t, ref, "the file is checked at most every second")
	c.Add(keyFileCheckEvery)
	_, ref = check("key-billing")
	require.NotNil(t, ref, "a revoked key stops working")
	id, ref = check("key-ops")
	require.Nil(t, ref)
	require.Equal(t, "apikey:ops", id)

	// A broken file keeps the last good keys.
	writeKeys(t, path, c.Now().Add(2*time.Minute), "not-a-digest")
	c.Add(keyFileCheckEvery)
	_, ref = check("key-ops")
	require.Nil(t, ref)
}

func TestAPIKeyFileInvalid(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"short digest": "abcd name",
		"not hex":      strings.Repeat("z", 64),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			_, err := New(context.Background(), Config{APIKeysFile: path})
			require.ErrorContains(t, err, "line 1")
		})
	}
	_, err := New(context.Background(), Config{APIKeysFile: filepath.Join(dir, "missing")})
	require.Error(t, err)
}

// TestMiddleware checks that the outcome reaches the handler's context
// and that a preflight is left alone.
func TestMiddleware(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, time.Now(), digestOf("k")+" svc")
	a, err := New(context.Background(), Config{APIKeysFile: path})
	require.NoError(t, err)
	var got []string
	h := a.Middleware(httpHandlerFunc(func(r *http.Request) {
		c, ref, ok := Outcome(r.Context())
		switch {
		case ok:
			got = append(got, c.Key())
		case ref != nil:
			got = append(got, "refused")
		default:
			got = append(got, "none")
		}
	}))
	h.ServeHTTP(nil, request(APIKeyHeader, "k"))
	h.ServeHTTP(nil, request(APIKeyHeader, "bad"))
	pre := request("", "")
	pre.Method = "OPTIONS"
	h.ServeHTTP(nil, pre)
	require.Equal(t, []string{"apikey:svc", "refused", "none"}, got)
}

// httpHandlerFunc adapts a function of the request alone.
func httpHandlerFunc(f func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { f(r) })
}

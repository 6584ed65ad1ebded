package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestPersistedQueries checks APQ and the manifest safelist.
func TestPersistedQueries(t *testing.T) {
	apq := func(query, hash string) request {
		body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
		if query != "" {
			body["query"] = query
		}
		return request{header: jsonHeader, body: jsonBody(t, body)}
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	const q = "{ terminateReasons { code } }"

	t.Run("APQ", func(t *testing.T) {
		e := newEnv(t)
		a := e.send(t, apq("", sum(q)))
		require.Equal(t, 200, a.status)
		require.Equal(t, gateway.CodePersistedQueryNotFound, a.errors[0].Extensions["code"])
		a = e.send(t, apq(q, sum(q)))
		require.Empty(t, a.errors, a.body)
		a = e.send(t, apq("", sum(q)))
		require.Empty(t, a.errors, a.body)
		require.Contains(t, string(a.data), "terminateReasons")
	})

	m, err := gateway.LoadManifest("testdata/manifest.json")
	require.NoError(t, err)
	t.Run("manifest alongside free queries", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{Manifest: m}))
		a := e.send(t, apq("", "terminate-reasons-v1"))
		require.Empty(t, a.errors, a.body)
		e.mustQuery(t, "{ businesses { code } }", nil)
	})
	t.Run("safelist only", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{Manifest: m, PersistedOnly: true}))
		tests := []struct {
			name string
			req  request
			code string
		}{
			{"by id", apq("", "terminate-reasons-v1"), ""},
			{"by id, with its body", apq("query TerminateReasons { terminateReasons { code } }", "terminate-reasons-v1"), ""},
			{"by body", post(t, "query Businesses { businesses { code } }", nil), ""},
			{"unknown id", apq("", sum(q)), gateway.CodePersistedQueryNotFound},
			{"APQ registration", apq(q, sum(q)), gateway.CodePersistedQueryNotInList},
			{"free-form query", post(t, q, nil), gateway.CodePersistedQueryNotInList},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.upstream()
				a := e.send(t, tt.req)
				require.Equal(t, 200, a.status, a.body)
				if tt.code == "" {
					require.Empty(t, a.errors, a.body)
					return
				}
				require.Len(t, a.errors, 1, a.body)
				require.Equal(t, tt.code, a.errors[0].Extensions["code"])
				require.Empty(t, e.upstream())
			})
		}
	})
}

// TestLoadManifest checks that a bad manifest is refused with a reason.
func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not JSON":     `{`,
		"wrong format": `{"format":"other","version":1,"operations":[]}`,
		"no body":      `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a"}]}`,
		"duplicate id": `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","body":"{a}"},{"id":"a","body":"{b}"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := dir + "/" + strings.ReplaceAll(name, " ", "_") + ".json"
			require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
			_, err := gateway.LoadManifest(p)
			require.Error(t, err)
		})
	}
}

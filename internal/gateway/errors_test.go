package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
)

const secret = "s3cr3t-Passw0rd-value"

// TestUpstreamFaultsGiveCodedPartialResults injects one fault per case on
// the terminate_reason endpoint and checks that only that field fails, with
// a stable extensions.code and its path, while the rest keeps its data, and
// that no credential reaches the response.
func TestUpstreamFaultsGiveCodedPartialResults(t *testing.T) {
	cases := []struct {
		name  string
		fault http.HandlerFunc
		code  string
		check func(t *testing.T, ext map[string]any)
	}{
		{"503", status(http.StatusServiceUnavailable, `{"detail":"down"}`), "UPSTREAM_UNAVAILABLE", nil},
		{"500 echoing the token", status(http.StatusInternalServerError, `{"detail":"bad token `+secret+`"}`), "UPSTREAM_UNAVAILABLE", nil},
		{"429 with Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, "RATE_LIMITED", func(t *testing.T, ext map[string]any) { require.EqualValues(t, 7, ext["retryAfter"]) }},
		{"401", status(http.StatusUnauthorized, `{"detail":"Invalid token `+secret+`"}`), "UNAUTHENTICATED", nil},
		{"403", status(http.StatusForbidden, `{"detail":"nope"}`), "UNAUTHENTICATED", nil},
		{"404 on a list", status(http.StatusNotFound, `{"detail":"Not found."}`), "UPSTREAM_NOT_FOUND", nil},
		{"broken JSON", status(http.StatusOK, `{"terminate_reasons": ["a", `), "UPSTREAM_BAD_RESPONSE", nil},
		{"wrong shape", status(http.StatusOK, `"just a string"`), "UPSTREAM_BAD_RESPONSE", nil},
		{"hang past the timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, "UPSTREAM_TIMEOUT", nil},
		{"connection dropped mid-body", func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"terminate_reasons\": [\"Cess")
			_ = buf.Flush()
			_ = conn.Close()
		}, "UPSTREAM_UNAVAILABLE", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withTimeout(200*time.Millisecond), withAuth(func(string) covage.Auth { return covage.StaticToken(secret) }))
			e.fault("/api/v1/referential/terminate_reason", tc.fault)
			r := e.query(t, `{ terminateReasons { code } changeReasons { code } }`, nil)
			require.Equal(t, http.StatusOK, r.Status)
			require.NotContains(t, r.Body, secret)
			require.NotContains(t, e.log.String(), secret)
			require.Len(t, r.Errors, 1, r.Body)
			require.Equal(t, []any{"terminateReasons"}, r.Errors[0].Path)
			require.Equal(t, tc.code, r.Errors[0].Extensions["code"], r.Body)
			require.Equal(t, "terminate_reason", r.Errors[0].Extensions["endpoint"])
			if tc.check != nil {
				tc.check(t, r.Errors[0].Extensions)
			}
			var data struct {
				TerminateReasons []any
				ChangeReasons    []any
			}
			require.NoError(t, json.Unmarshal(r.Data, &data))
			require.Nil(t, data.TerminateReasons)
			require.Len(t, data.ChangeReasons, 5, "the healthy field keeps its data")

			// The gateway keeps serving once the fault is gone.
			e.fault("/api/v1/referential/terminate_reason", nil)
			e.mustQuery(t, `{ terminateReasons { code } }`, nil)
		})
	}
}

// TestNestedFaultNullsOnlyTheRelation checks partial results one level
// down: when the door list fails, each project's ennis is null with a coded
// error, and the projects themselves are kept.
func TestNestedFaultNullsOnlyTheRelation(t *testing.T) {
	e := newEnv(t)
	e.fault("/api/v1/referential/enni", status(http.StatusBadGateway, ""))
	r := e.query(t, `{ projects { code ennis { reference } } }`, nil)
	var data struct {
		Projects []struct {
			Code  string
			Ennis []any
		}
	}
	require.NoError(t, json.Unmarshal(r.Data, &data))
	require.Len(t, data.Projects, len(demo.Sample().Projects))
	withClient := 0
	for _, p := range demo.Sample().Projects {
		if p.ClientCode != "" {
			withClient++
		}
	}
	require.Len(t, r.Errors, withClient, "one error per project whose doors failed")
	paths := map[string]bool{}
	for _, err := range r.Errors {
		require.Equal(t, "UPSTREAM_UNAVAILABLE", err.Extensions["code"])
		require.Equal(t, "ennis", err.Path[len(err.Path)-1])
		require.Len(t, err.Locations, 1, "the error points at the field in the query")
		paths[fmt.Sprint(err.Path)] = true
	}
	require.Len(t, paths, withClient, "each error names its own project")
}

// TestOAuth2EndToEnd checks the password grant through the whole gateway:
// one token for many requests, and one re-authentication when Covage
// rejects the token.
func TestOAuth2EndToEnd(t *testing.T) {
	e := newEnv(t,
		withDemo(demo.WithCredentials("gateway-user", secret)),
		withAuth(func(base string) covage.Auth {
			return covage.PasswordAuth(base+demo.TokenPath, "api-client", "gateway-user", secret)
		}))
	for range 3 {
		e.mustQuery(t, `{ terminateReasons { code } }`, nil)
	}
	require.EqualValues(t, 1, e.demo.Calls("token"), "the token is reused")

	e.demo.ExpireTokens()
	e.mustQuery(t, `{ terminateReasons { code } }`, nil)
	require.EqualValues(t, 2, e.demo.Calls("token"), "one re-authentication after a 401")
	require.NotContains(t, e.log.String(), secret)
}

// TestWrongPasswordIsUnauthenticated checks a rejected password grant.
func TestWrongPasswordIsUnauthenticated(t *testing.T) {
	e := newEnv(t,
		withDemo(demo.WithCredentials("gateway-user", "the-right-one")),
		withAuth(func(base string) covage.Auth {
			return covage.PasswordAuth(base+demo.TokenPath, "api-client", "gateway-user", secret)
		}))
	r := e.query(t, `{ terminateReasons { code } }`, nil)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Extensions["code"])
	require.NotContains(t, r.Body, secret)
	require.NotContains(t, e.log.String(), secret)
	require.Empty(t, e.upstream(), "no data call without a token")
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
)

// TestWrongPasswordBacksOff is the reproduction: 40 queries spread
// over 5 s with a wrong Covage password. Each gets UNAUTHENTICATED at once,
// and the token endpoint (the demo's counter) sees one grant at the start
// and one after the first 2 s backoff, the next being due at 6 s at the
// earliest. The clock is stepped, not slept.
func TestWrongPasswordBacksOff(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	e := newEnv(t,
		withDemo(demo.WithCredentials("svc", "right-password")),
		withAuth(func(base string) covage.Auth {
			return covage.PasswordAuth(base+demo.TokenPath, "api-client", "svc", "wrong-password", covage.WithClock(clock.Now))
		}))

	var grantsAt []time.Duration
	for i := range 40 {
		before := e.demo.Calls("token")
		r := e.query(t, "{ terminateReasons { code } }", nil)
		require.NotEmpty(t, r.Errors, r.Body)
		require.Equal(t, graph.CodeUnauthenticated, r.Errors[0].Extensions["code"], r.Body)
		require.NotContains(t, r.Body, "wrong-password")
		if e.demo.Calls("token") > before {
			grantsAt = append(grantsAt, time.Duration(i)*125*time.Millisecond)
		}
		clock.add(125 * time.Millisecond)
	}
	require.LessOrEqual(t, e.demo.Calls("token"), int64(3), "the issue's bound")
	require.Len(t, grantsAt, 2, "grants at %v", grantsAt)
	require.Equal(t, time.Duration(0), grantsAt[0])
	require.GreaterOrEqual(t, grantsAt[1], 2*time.Second, "the first retry waits at least 2 s, no downward jitter")
	require.LessOrEqual(t, grantsAt[1], 2200*time.Millisecond+125*time.Millisecond,
		"jitter adds at most a tenth: the retry is the first query after 2.2 s at the latest")
	require.Empty(t, e.upstream(), "no data call is made without a token")
}

// TestNoCredentialEchoed checks that a credential sent in a request never
// comes back, in a refusal or an answer, nor reaches the log.
func TestNoCredentialEchoed(t *testing.T) {
	e := newEnv(t)
	const secret = "Bearer super-secret-credential"
	for _, r := range []request{
		{header: map[string]string{"Content-Type": "application/json", "Authorization": secret}, body: strings.NewReader(`{"query": "` + secret)},
		{header: map[string]string{"Content-Type": "application/json", "Authorization": secret}, body: strings.NewReader(`{"query": "{ project(code: \"` + secret + `\") { nope } }"}`)},
		{header: map[string]string{"Content-Type": "text/plain", "Authorization": secret}, body: strings.NewReader(secret)},
	} {
		a := e.send(t, r)
		require.NotContains(t, a.body, "super-secret-credential")
	}
	require.NotContains(t, e.log.String(), "super-secret-credential")
}

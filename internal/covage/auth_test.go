package covage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

const (
	testClientID = "api-client"
	testUser     = "alice@example.com"
	testPassword = "pa55-w0rd-s3cret"
)

// keycloak is a fake token endpoint. respond decides each answer; the forms
// it received are kept for assertions.
type keycloak struct {
	*httptest.Server

	mu      sync.Mutex
	forms   []url.Values
	agents  []string
	respond func(n int, form url.Values) (status int, body string)
}

func newKeycloak(t *testing.T, respond func(n int, form url.Values) (int, string)) *keycloak {
	t.Helper()
	k := &keycloak{respond: respond}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/realms/covage/protocol/openid-connect/token" {
			t.Errorf("unexpected token request %s %s", r.Method, r.URL.Path)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		k.mu.Lock()
		k.forms = append(k.forms, r.PostForm)
		k.agents = append(k.agents, r.UserAgent())
		n := len(k.forms)
		k.mu.Unlock()
		status, body := k.respond(n, r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *keycloak) tokenURL() string { return k.URL + "/realms/covage/protocol/openid-connect/token" }

// grants lists the grant_type of every token request, in order.
func (k *keycloak) grants() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(k.forms))
	for i, f := range k.forms {
		out[i] = f.Get("grant_type")
	}
	return out
}

func (k *keycloak) form(t *testing.T, i int) url.Values {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	require.Greater(t, len(k.forms), i)
	return k.forms[i]
}

// tokenJSON is a token endpoint answer.
func tokenJSON(access string, expiresIn int, refresh string) string {
	s := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":%d`, access, expiresIn)
	if refresh != "" {
		s += fmt.Sprintf(`,"refresh_token":%q,"refresh_expires_in":1800`, refresh)
	}
	return s + `}`
}

// issueSequential issues tok-1, tok-2... with the given lifetime.
func issueSequential(expiresIn int) func(int, url.Values) (int, string) {
	return func(n int, _ url.Values) (int, string) {
		return 200, tokenJSON(fmt.Sprintf("tok-%d", n), expiresIn, fmt.Sprintf("ref-%d", n))
	}
}

// bearerUpstream is a Covage that accepts the tokens accept says yes to.
func bearerUpstream(t *testing.T, accept func(token string) bool) *upstream {
	t.Helper()
	u := newUpstream(t)
	u.handle("project", func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !accept(token) {
			http.Error(w, `{"detail":"bad token `+token+`"}`, http.StatusUnauthorized)
			return
		}
		serve(200, []byte(`[{"code":"FLASH"}]`))(w, r)
	})
	return u
}

func passwordClient(t *testing.T, u *upstream, k *keycloak, opts ...func(*Config)) *Client {
	t.Helper()
	return newClient(t, u, append([]func(*Config){func(c *Config) {
		c.Auth = PasswordAuth(k.tokenURL(), testClientID, testUser, testPassword)
	}}, opts...)...)
}

func TestPasswordGrantIsSharedAcrossCalls(t *testing.T) {
	k := newKeycloak(t, func(n int, _ url.Values) (int, string) {
		time.Sleep(20 * time.Millisecond) // widen the window for a stampede
		return 200, tokenJSON(fmt.Sprintf("tok-%d", n), 3600, "ref")
	})
	u := bearerUpstream(t, func(tok string) bool { return tok == "tok-1" })
	c := passwordClient(t, u, k, func(c *Config) { c.UserAgent = "gateway-test/2" })

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Projects(context.Background(), domain.ProjectFilter{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for range 5 {
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"password"}, k.grants())
	require.Equal(t, 25, u.count("project"))

	form := k.form(t, 0)
	require.Equal(t, url.Values{
		"grant_type": {"password"},
		"client_id":  {testClientID},
		"username":   {testUser},
		"password":   {testPassword},
	}, form)
	require.Equal(t, []string{"gateway-test/2"}, k.agents)
}

func TestTokenLifecycle(t *testing.T) {
	tests := []struct {
		name string
		// respond answers the n-th token request.
		respond    func(n int, form url.Values) (int, string)
		calls      int
		wantGrants []string
	}{
		{
			// oauth2 treats a token as expired 10s early, so expires_in=5 is
			// already stale on the next call.
			name: "expired token is refreshed, then reused",
			respond: func(n int, f url.Values) (int, string) {
				if f.Get("grant_type") == "refresh_token" {
					return 200, tokenJSON("tok-refreshed", 3600, "ref-2")
				}
				return 200, tokenJSON("tok-1", 5, "ref-1")
			},
			calls:      3,
			wantGrants: []string{"password", "refresh_token"},
		},
		{
			name: "failed refresh falls back to a password grant",
			respond: func(n int, f url.Values) (int, string) {
				if f.Get("grant_type") == "refresh_token" {
					return 400, `{"error":"invalid_grant","error_description":"Session not active"}`
				}
				if n == 1 {
					return 200, tokenJSON("tok-1", 5, "ref-1")
				}
				return 200, tokenJSON("tok-2", 3600, "ref-2")
			},
			calls:      3,
			wantGrants: []string{"password", "refresh_token", "password"},
		},
		{
			name: "no refresh token means a new password grant",
			respond: func(n int, f url.Values) (int, string) {
				return 200, tokenJSON(fmt.Sprintf("tok-%d", n), 5, "")
			},
			calls:      3,
			wantGrants: []string{"password", "password", "password"},
		},
		{
			name: "token without expiry is kept",
			respond: func(n int, f url.Values) (int, string) {
				return 200, `{"access_token":"tok-forever","token_type":"Bearer"}`
			},
			calls:      3,
			wantGrants: []string{"password"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeycloak(t, tt.respond)
			u := bearerUpstream(t, func(string) bool { return true })
			c := passwordClient(t, u, k)
			for range tt.calls {
				_, err := c.Projects(context.Background(), domain.ProjectFilter{})
				require.NoError(t, err)
			}
			require.Equal(t, tt.wantGrants, k.grants())
			for i, g := range tt.wantGrants {
				form := k.form(t, i)
				require.Equal(t, testClientID, form.Get("client_id"))
				if g == "refresh_token" {
					require.Equal(t, "ref-1", form.Get("refresh_token"))
					require.Empty(t, form.Get("password"))
				}
			}
		})
	}
	t.Run("refreshed token is the one sent", func(t *testing.T) {
		k := newKeycloak(t, func(n int, f url.Values) (int, string) {
			if f.Get("grant_type") == "refresh_token" {
				return 200, tokenJSON("tok-refreshed", 3600, "")
			}
			return 200, tokenJSON("tok-1", 5, "ref-1")
		})
		u := bearerUpstream(t, func(string) bool { return true })
		c := passwordClient(t, u, k)
		for _, want := range []string{"Bearer tok-1", "Bearer tok-refreshed", "Bearer tok-refreshed"} {
			_, err := c.Projects(context.Background(), domain.ProjectFilter{})
			require.NoError(t, err)
			require.Equal(t, want, u.last(t).Header.Get("Authorization"))
		}
	})
}

func TestUnauthorizedRetry(t *testing.T) {
	t.Run("one re-authentication and one retry", func(t *testing.T) {
		k := newKeycloak(t, issueSequential(3600))
		// Covage revoked tok-1 behind the client's back.
		u := bearerUpstream(t, func(tok string) bool { return tok != "tok-1" })
		c := passwordClient(t, u, k)
		got, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, []string{"password", "password"}, k.grants())
		require.Equal(t, 2, u.count("project"))
		require.Equal(t, "Bearer tok-2", u.last(t).Header.Get("Authorization"))

		// The new token is kept.
		_, err = c.Projects(context.Background(), domain.ProjectFilter{})
		require.NoError(t, err)
		require.Len(t, k.grants(), 2)
	})
	t.Run("second 401 is returned", func(t *testing.T) {
		k := newKeycloak(t, issueSequential(3600))
		u := bearerUpstream(t, func(string) bool { return false })
		c := passwordClient(t, u, k)
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrUnauthenticated)
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, http.StatusUnauthorized, e.StatusCode)
		require.Equal(t, []string{"password", "password"}, k.grants())
		require.Equal(t, 2, u.count("project"))
		require.NotContains(t, err.Error(), "tok-")
		require.NotContains(t, err.Error(), testPassword)
	})
	t.Run("403 is not retried", func(t *testing.T) {
		k := newKeycloak(t, issueSequential(3600))
		u := newUpstream(t)
		u.handle("project", serve(http.StatusForbidden, []byte(`{"detail":"forbidden"}`)))
		_, err := passwordClient(t, u, k).Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrUnauthenticated)
		require.Equal(t, 1, u.count("project"))
		require.Len(t, k.grants(), 1)
	})
	t.Run("static token is not retried", func(t *testing.T) {
		u := bearerUpstream(t, func(string) bool { return false })
		c := newClient(t, u, func(c *Config) { c.Auth = StaticToken(secret) })
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrUnauthenticated)
		require.Equal(t, 1, u.count("project"))
		require.NotContains(t, err.Error(), secret, "the upstream body echoes the token")
	})
	t.Run("concurrent 401s share one re-authentication", func(t *testing.T) {
		k := newKeycloak(t, issueSequential(3600))
		var mu sync.Mutex
		revoked := false
		u := bearerUpstream(t, func(tok string) bool {
			mu.Lock()
			defer mu.Unlock()
			return !(revoked && tok == "tok-1")
		})
		c := passwordClient(t, u, k)
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.NoError(t, err)
		mu.Lock()
		revoked = true
		mu.Unlock()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := c.Projects(context.Background(), domain.ProjectFilter{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, []string{"password", "password"}, k.grants())
	})
}

func TestTokenEndpointFailures(t *testing.T) {
	echo := `{"error":"invalid_grant","error_description":"Invalid user credentials for ` + testUser + ` / ` + testPassword + `"}`
	tests := []struct {
		name     string
		respond  func(int, url.Values) (int, string)
		closed   bool
		wantKind error
		wantText string
	}{
		{
			name:     "wrong password",
			respond:  func(int, url.Values) (int, string) { return 401, echo },
			wantKind: ErrUnauthenticated,
			wantText: "covage project: unauthenticated: token endpoint: status 401 (invalid_grant)",
		},
		{
			name:     "error code that is not a code",
			respond:  func(int, url.Values) (int, string) { return 400, `{"error":"` + testPassword + `"}` },
			wantKind: ErrUnauthenticated,
			wantText: "covage project: unauthenticated: token endpoint: status 400",
		},
		{
			name:     "server error echoing the form",
			respond:  func(_ int, f url.Values) (int, string) { return 500, "<pre>" + f.Encode() + "</pre>" },
			wantKind: ErrUnauthenticated,
			wantText: "covage project: unauthenticated: token endpoint: status 500",
		},
		{
			name:     "200 without a token",
			respond:  func(int, url.Values) (int, string) { return 200, `{"hint":"` + testPassword + `"}` },
			wantKind: ErrUnauthenticated,
			wantText: "covage project: unauthenticated: token endpoint: unusable response",
		},
		{
			name:     "200 with garbage",
			respond:  func(int, url.Values) (int, string) { return 200, testPassword },
			wantKind: ErrUnauthenticated,
		},
		{
			name:     "unreachable",
			closed:   true,
			wantKind: ErrUnauthenticated,
		},
		{
			name: "too slow",
			respond: func(int, url.Values) (int, string) {
				time.Sleep(200 * time.Millisecond)
				return 200, tokenJSON("late", 3600, "")
			},
			wantKind: ErrTimeout,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeycloak(t, tt.respond)
			if tt.closed {
				k.Close()
			}
			u := bearerUpstream(t, func(string) bool { return true })
			c := passwordClient(t, u, k, func(c *Config) { c.Timeout = 50 * time.Millisecond })
			_, err := c.Projects(context.Background(), domain.ProjectFilter{})
			require.ErrorIs(t, err, tt.wantKind)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, EndpointProject, e.Endpoint)
			require.Zero(t, e.StatusCode)
			msg := err.Error()
			if tt.wantText != "" {
				require.Equal(t, tt.wantText, msg)
			}
			for _, leak := range []string{testPassword, testUser, "pa55", "alice", "Invalid user credentials", k.URL, "openid-connect"} {
				require.NotContains(t, msg, leak)
			}
			require.Zero(t, u.total(), "no data call without a token")
		})
	}
}

func TestTokenWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	k := newKeycloak(t, func(int, url.Values) (int, string) {
		<-release
		return 200, tokenJSON("tok", 3600, "")
	})
	u := bearerUpstream(t, func(string) bool { return true })
	c := passwordClient(t, u, k, func(c *Config) { c.Timeout = 5 * time.Second })

	// The first caller holds the token endpoint; the second gives up waiting.
	first := make(chan error, 1)
	go func() {
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		first <- err
	}()
	require.Eventually(t, func() bool { return len(k.grants()) == 1 }, time.Second, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Projects(ctx, domain.ProjectFilter{})
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	close(release)
	require.NoError(t, <-first)
	require.Len(t, k.grants(), 1)
}

func TestWithBearer(t *testing.T) {
	k := newKeycloak(t, issueSequential(3600))
	u := newUpstream(t)
	u.handle("project", serve(200, []byte(`[]`)))
	c := passwordClient(t, u, k)

	_, err := c.Projects(WithBearer(context.Background(), "end-user-token"), domain.ProjectFilter{})
	require.NoError(t, err)
	require.Equal(t, "Bearer end-user-token", u.last(t).Header.Get("Authorization"))
	require.Empty(t, k.grants(), "the gateway's own credentials are not used")

	// An empty pass-through token must not fall back to the gateway's.
	_, err = c.Projects(WithBearer(context.Background(), ""), domain.ProjectFilter{})
	require.NoError(t, err)
	require.Empty(t, u.last(t).Header.Get("Authorization"))
	require.Empty(t, k.grants())

	// A rejected pass-through token is not retried.
	u2 := bearerUpstream(t, func(string) bool { return false })
	c2 := passwordClient(t, u2, k)
	_, err = c2.Projects(WithBearer(context.Background(), "end-user-token"), domain.ProjectFilter{})
	require.ErrorIs(t, err, ErrUnauthenticated)
	require.Equal(t, 1, u2.count("project"))
	require.Empty(t, k.grants())
}

// TestRejectedGrantSchedule checks the backoff after rejected password
// grants: 2 s, then 4 s, never sooner, cleared by a success; an outage of
// the token endpoint (5xx) is not a rejection and is not remembered.
func TestRejectedGrantSchedule(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	step := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	answers := []int{401, 400, 200, 503, 503}
	k := newKeycloak(t, func(n int, _ url.Values) (int, string) {
		if st := answers[min(n, len(answers))-1]; st != 200 {
			return st, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`
		}
		return 200, tokenJSON("tok", 1, "")
	})
	u := bearerUpstream(t, func(string) bool { return true })
	c := newClient(t, u, func(c *Config) {
		c.Auth = PasswordAuth(k.tokenURL(), testClientID, testUser, testPassword, WithClock(clock))
	})
	grants := func() int { return len(k.grants()) }
	call := func() error { return c.CheckAuth(context.Background()) }

	require.ErrorIs(t, call(), ErrUnauthenticated) // rejected: 2 s backoff
	require.Equal(t, 1, grants())
	step(1999 * time.Millisecond)
	require.ErrorIs(t, call(), ErrUnauthenticated)
	require.Equal(t, 1, grants(), "not before 2 s")
	step(time.Second) // t=3 s, past 2 s + at most 10% jitter
	require.ErrorIs(t, call(), ErrUnauthenticated)
	require.Equal(t, 2, grants(), "second try; the next waits 4 s")
	step(3999 * time.Millisecond)
	require.ErrorIs(t, call(), ErrUnauthenticated)
	require.Equal(t, 2, grants(), "not before 4 s")
	step(time.Second)
	require.NoError(t, call())
	require.Equal(t, 3, grants(), "the third try succeeds and clears the backoff")

	// The token (1 s lifetime, within oauth2's expiry margin) is already
	// stale, so the next call asks again and meets an outage, which is
	// retried on the next call rather than remembered.
	require.ErrorIs(t, call(), ErrUnauthenticated)
	require.ErrorIs(t, call(), ErrUnauthenticated)
	require.Equal(t, 5, grants(), "a 5xx is not a rejection")
}

// countingAuth has a token at hand (cached) or not, and counts the calls
// that would go to the token endpoint.
type countingAuth struct {
	atHand bool
	calls  int
}

func (a *countingAuth) token(context.Context) (Secret, error) { a.calls++; return "fetched", nil }
func (a *countingAuth) cached() (Secret, bool)                { return "at-hand", a.atHand }
func (a *countingAuth) invalidate(Secret) bool                { return false }

// TestTokenAtHandSkipsTheTokenCall checks that a data call whose token is at
// hand neither asks for one nor builds the token call's context (a timer and
// a value per data call), and that one that is not at hand does.
func TestTokenAtHandSkipsTheTokenCall(t *testing.T) {
	for _, tc := range []struct {
		atHand    bool
		wantCalls int
		wantToken string
	}{{true, 0, "at-hand"}, {false, 1, "fetched"}} {
		t.Run(fmt.Sprintf("at hand=%v", tc.atHand), func(t *testing.T) {
			u := newUpstream(t)
			u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
				serve(200, u.golden(t, "terminate_reasons.json"))(w, r)
			})
			auth := &countingAuth{atHand: tc.atHand}
			c := newClient(t, u, func(cfg *Config) { cfg.Auth = auth })
			_, err := c.TerminateReasons(t.Context())
			require.NoError(t, err)
			require.Equal(t, tc.wantCalls, auth.calls)
			require.Equal(t, "Bearer "+tc.wantToken, u.last(t).Header.Get("Authorization"))
		})
	}
}

// TestHeadersHookCannotReplaceCredentials checks that Config.Headers adds
// its headers to data calls, and that the client's own headers win over
// any it sets, the credential first.
func TestHeadersHookCannotReplaceCredentials(t *testing.T) {
	u := newUpstream(t)
	u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
		serve(200, u.golden(t, "terminate_reasons.json"))(w, r)
	})
	c := newClient(t, u, func(cfg *Config) {
		cfg.Auth = StaticToken("the-token")
		cfg.Headers = func(_ context.Context, h http.Header) {
			h.Set("X-Request-Id", "req-1")
			h.Set("Authorization", "Bearer not-the-token")
			h.Set("User-Agent", "not-the-client")
		}
	})
	_, err := c.TerminateReasons(t.Context())
	require.NoError(t, err)
	got := u.last(t).Header
	require.Equal(t, "req-1", got.Get("X-Request-Id"))
	require.Equal(t, "Bearer the-token", got.Get("Authorization"))
	require.Equal(t, defaultUserAgent, got.Get("User-Agent"))
}

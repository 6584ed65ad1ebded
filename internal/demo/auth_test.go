package demo_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/covage/gateway/internal/demo"
)

// tokenBody is the token endpoint's successful answer.
type tokenBody struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
}

// postForm posts a token request.
func postForm(t testing.TB, base string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+demo.TokenPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := testClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// passwordGrant asks for tokens and requires success.
func passwordGrant(t testing.TB, base, username, password string) tokenBody {
	t.Helper()
	res := postForm(t, base, url.Values{
		"grant_type": {"password"}, "client_id": {"api-client"},
		"username": {username}, "password": {password},
	})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	return decode[tokenBody](t, res.body)
}

func refreshGrant(t testing.TB, base, refresh string) response {
	t.Helper()
	return postForm(t, base, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {"api-client"}, "refresh_token": {refresh},
	})
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func TestAuthRejectsRequestsWithoutValidToken(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, demo.WithCredentials("alice", "s3cret"))
	tests := []struct {
		name   string
		header http.Header
	}{
		{"missing", nil},
		{"unknown token", bearer("not-a-token")},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}},
		{"basic scheme", http.Header{"Authorization": {"Basic YWxpY2U6czNjcmV0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"project/", "enni", "business_code/", "billing_site/AUX00", "terminate_reason/", "change_reason", "site_connection/"} {
				res := do(t, http.MethodGet, ts.URL+api+path, tt.header)
				require.Equal(t, http.StatusUnauthorized, res.status, path)
				require.Equal(t, "application/json", res.header.Get("Content-Type"))
				require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer")
				require.Contains(t, decode[map[string]string](t, res.body), "detail")
			}
		})
	}
	require.EqualValues(t, 4*7, s.Total(), "401 answers are counted")
}

func TestAuthPasswordAndRefreshGrants(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, demo.WithCredentials("alice", "s3cret"))

	tok := passwordGrant(t, ts.URL, "alice", "s3cret")
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken)
	require.NotEqual(t, tok.AccessToken, tok.RefreshToken)
	require.Equal(t, "Bearer", tok.TokenType)
	require.EqualValues(t, 300, tok.ExpiresIn)
	require.EqualValues(t, 1800, tok.RefreshExpiresIn)

	res := do(t, http.MethodGet, ts.URL+api+"project/", bearer(tok.AccessToken))
	require.Equal(t, http.StatusOK, res.status)
	res = do(t, http.MethodGet, ts.URL+api+"project/", http.Header{"Authorization": {"bearer " + tok.AccessToken}})
	require.Equal(t, http.StatusOK, res.status, "the scheme is case-insensitive")

	// ExpireTokens invalidates the access token; the refresh token still works.
	s.ExpireTokens()
	res = do(t, http.MethodGet, ts.URL+api+"project/", bearer(tok.AccessToken))
	require.Equal(t, http.StatusUnauthorized, res.status)

	res = refreshGrant(t, ts.URL, tok.RefreshToken)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	fresh := decode[tokenBody](t, res.body)
	require.NotEqual(t, tok.AccessToken, fresh.AccessToken)
	res = do(t, http.MethodGet, ts.URL+api+"enni/", bearer(fresh.AccessToken))
	require.Equal(t, http.StatusOK, res.status)

	// RevokeRefreshTokens forces a new password grant.
	s.RevokeRefreshTokens()
	res = refreshGrant(t, ts.URL, fresh.RefreshToken)
	require.Equal(t, http.StatusUnauthorized, res.status)
	require.Equal(t, "invalid_grant", decode[map[string]string](t, res.body)["error"])
	res = do(t, http.MethodGet, ts.URL+api+"enni/", bearer(fresh.AccessToken))
	require.Equal(t, http.StatusOK, res.status, "access tokens survive revoked refresh tokens")

	require.EqualValues(t, 3, s.Calls("token"))
	require.EqualValues(t, 5, s.Total(), "token requests are not data requests")
}

func TestAuthTokenExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 60 * time.Millisecond
	_, ts := start(t, nil, demo.WithCredentials("alice", "s3cret"), demo.WithTokenTTL(ttl))

	tok := passwordGrant(t, ts.URL, "alice", "s3cret")
	require.EqualValues(t, 1, tok.ExpiresIn, "expires_in is rounded up to whole seconds")
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+api+"project/", bearer(tok.AccessToken)).status)

	time.Sleep(ttl + 20*time.Millisecond)
	require.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, ts.URL+api+"project/", bearer(tok.AccessToken)).status)

	res := refreshGrant(t, ts.URL, tok.RefreshToken)
	require.Equal(t, http.StatusOK, res.status)
	fresh := decode[tokenBody](t, res.body)
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+api+"project/", bearer(fresh.AccessToken)).status)
}

func TestTokenTTLRounding(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ttl  time.Duration
		want int64
	}{
		{1500 * time.Millisecond, 2},
		{time.Minute, 60},
		{90*time.Second + time.Nanosecond, 91},
	} {
		t.Run(tt.ttl.String(), func(t *testing.T) {
			_, ts := start(t, nil, demo.WithCredentials("a", "b"), demo.WithTokenTTL(tt.ttl))
			require.Equal(t, tt.want, passwordGrant(t, ts.URL, "a", "b").ExpiresIn)
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, demo.WithCredentials("alice", "s3cret"))
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"wrong password", url.Values{"grant_type": {"password"}, "client_id": {"api-client"}, "username": {"alice"}, "password": {"nope"}}, 401, "invalid_grant"},
		{"wrong username", url.Values{"grant_type": {"password"}, "client_id": {"api-client"}, "username": {"bob"}, "password": {"s3cret"}}, 401, "invalid_grant"},
		{"missing password", url.Values{"grant_type": {"password"}, "client_id": {"api-client"}, "username": {"alice"}}, 401, "invalid_grant"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"api-client"}, "refresh_token": {"nope"}}, 401, "invalid_grant"},
		{"missing refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"api-client"}}, 401, "invalid_grant"},
		{"wrong client", url.Values{"grant_type": {"password"}, "client_id": {"other"}, "username": {"alice"}, "password": {"s3cret"}}, 400, "unauthorized_client"},
		{"missing client", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"s3cret"}}, 400, "unauthorized_client"},
		{"unsupported grant", url.Values{"grant_type": {"client_credentials"}, "client_id": {"api-client"}}, 400, "unsupported_grant_type"},
		{"missing grant", url.Values{"client_id": {"api-client"}}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(t, ts.URL, tt.form)
			require.Equal(t, tt.wantStatus, res.status, "%s", res.body)
			require.Equal(t, "application/json", res.header.Get("Content-Type"))
			body := decode[map[string]string](t, res.body)
			require.Equal(t, tt.wantError, body["error"])
			require.NotEmpty(t, body["error_description"])
		})
	}
	t.Run("wrong password body", func(t *testing.T) {
		res := postForm(t, ts.URL, url.Values{"grant_type": {"password"}, "client_id": {"api-client"}, "username": {"alice"}, "password": {"x"}})
		require.JSONEq(t, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`, string(res.body))
	})
	t.Run("GET", func(t *testing.T) {
		res := get(t, ts.URL+demo.TokenPath)
		require.Equal(t, http.StatusMethodNotAllowed, res.status)
		require.Equal(t, http.MethodPost, res.header.Get("Allow"))
	})
	t.Run("client id in basic auth", func(t *testing.T) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, ts.URL+demo.TokenPath,
			strings.NewReader(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"s3cret"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("api-client", "")
		res, err := testClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
}

func TestNoAuthWithoutCredentials(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil)
	for _, h := range []http.Header{nil, bearer("garbage"), {"Authorization": {"Basic Zm9vOmJhcg=="}}} {
		require.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+api+"project/", h).status)
	}
	// The token endpoint still answers, for any user, so a client configured
	// with credentials works against an open demo server.
	tok := passwordGrant(t, ts.URL, "whoever", "whatever")
	require.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+api+"project/", bearer(tok.AccessToken)).status)
}

// TestOAuth2Client checks the endpoint works with golang.org/x/oauth2, the
// library the gateway's client uses, including its automatic refresh.
func TestOAuth2Client(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, demo.WithCredentials("alice", "s3cret"))
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, ts.Client())
	cfg := &oauth2.Config{ClientID: "api-client", Endpoint: oauth2.Endpoint{TokenURL: ts.URL + demo.TokenPath}}

	tok, err := cfg.PasswordCredentialsToken(ctx, "alice", "s3cret")
	require.NoError(t, err)
	require.Equal(t, "Bearer", tok.TokenType)
	require.WithinDuration(t, time.Now().Add(5*time.Minute), tok.Expiry, 10*time.Second)

	_, err = cfg.PasswordCredentialsToken(ctx, "alice", "wrong")
	var rerr *oauth2.RetrieveError
	require.ErrorAs(t, err, &rerr)
	require.Equal(t, http.StatusUnauthorized, rerr.Response.StatusCode)
	require.Equal(t, "invalid_grant", rerr.ErrorCode)

	// An expired token makes the client refresh before the request.
	s.ExpireTokens()
	tok.Expiry = time.Now().Add(-time.Minute)
	client := cfg.Client(ctx, tok)
	res, err := client.Get(ts.URL + api + "project/")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.GreaterOrEqual(t, s.Calls("token"), int64(3))
}

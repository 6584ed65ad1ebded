package demo

import (
	"crypto/rand"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
)

// clientID is the public OAuth2 client that Covage's Keycloak expects.
const clientID = "api-client"

// maxFormBytes caps the token request body.
const maxFormBytes = 1 << 20

// tokenResponse is Keycloak's answer to a successful token request.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
}

// oauthError writes an OAuth2 error body, as Keycloak does.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	body := mustMarshal(map[string]string{"error": code, "error_description": description})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// serveToken is the fake Keycloak token endpoint. It takes a form POST with
// grant_type password (client_id, username, password) or refresh_token
// (client_id, refresh_token). The client ID may also come as HTTP Basic
// credentials, which is how golang.org/x/oauth2 tries first. Without
// WithCredentials any username and password are accepted.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	c := s.counters[endpointToken]
	c.calls.Add(1)
	c.enter()
	defer c.leave()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "HTTP method not allowed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid form body")
		return
	}
	form := r.PostForm
	client := form.Get("client_id")
	if client == "" {
		client, _, _ = r.BasicAuth()
	}
	if client != clientID {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "Invalid client or Invalid client credentials")
		return
	}

	switch form.Get("grant_type") {
	case "password":
		if s.auth && (form.Get("username") != s.username || form.Get("password") != s.password) {
			oauthError(w, http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
			return
		}
	case "refresh_token":
		if !s.validRefresh(form.Get("refresh_token")) {
			oauthError(w, http.StatusUnauthorized, "invalid_grant", "Invalid refresh token")
			return
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
		return
	}

	resp := s.issue()
	body, _ := json.Marshal(resp)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

// seconds rounds d up to whole seconds, as expires_in counts them.
func seconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}

// issue stores and returns a fresh access and refresh token pair.
func (s *Server) issue() tokenResponse {
	now := time.Now()
	access, refresh := rand.Text(), rand.Text()
	s.mu.Lock()
	pruneExpired(s.access, now)
	pruneExpired(s.refresh, now)
	s.access[access] = now.Add(s.tokenTTL)
	s.refresh[refresh] = now.Add(s.refreshTTL)
	s.mu.Unlock()
	return tokenResponse{
		AccessToken:      access,
		ExpiresIn:        seconds(s.tokenTTL),
		RefreshExpiresIn: seconds(s.refreshTTL),
		RefreshToken:     refresh,
		TokenType:        "Bearer",
	}
}

// pruneThreshold is the store size above which expired tokens are dropped,
// so a long benchmark cannot grow the maps without bound.
const pruneThreshold = 1024

func pruneExpired(m map[string]time.Time, now time.Time) {
	if len(m) < pruneThreshold {
		return
	}
	for tok, exp := range m {
		if !now.Before(exp) {
			delete(m, tok)
		}
	}
}

func (s *Server) validRefresh(tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.RLock()
	exp, ok := s.refresh[tok]
	s.mu.RUnlock()
	return ok && time.Now().Before(exp)
}

// authorized checks the request's bearer token and, when it is missing or
// not valid, answers 401 as Django REST Framework does and reports false.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		unauthorized(w, "Authentication credentials were not provided.")
		return false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		unauthorized(w, "Invalid token header.")
		return false
	}
	s.mu.RLock()
	exp, ok := s.access[tok]
	s.mu.RUnlock()
	if !ok || !time.Now().Before(exp) {
		unauthorized(w, "Given token not valid for any token type")
		return false
	}
	return true
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	writeJSON(w, http.StatusUnauthorized, detail(msg))
}

// ExpireTokens makes every access token issued so far invalid, so a test can
// make the next data request fail with 401 and watch the client
// re-authenticate. Refresh tokens stay valid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	s.access = make(map[string]time.Time)
	s.mu.Unlock()
}

// RevokeRefreshTokens makes every refresh token issued so far invalid, so
// the client has to fall back to the password grant.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	s.refresh = make(map[string]time.Time)
	s.mu.Unlock()
}

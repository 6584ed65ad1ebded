package gateway

import (
	"net/http"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/auth"
	"github.com/covage/gateway/internal/covage"
)

// passThrough forwards the caller's bearer token to Covage through the
// request context (covage.WithBearer), so the gateway's own credential is
// never used. A request without one is refused before anything runs, with
// HTTP 401 and a GraphQL-shaped UNAUTHENTICATED error: the whole request is
// unauthenticated, not one field, and a 401 with WWW-Authenticate is what
// HTTP clients and proxies know to act on. CORS preflights (OPTIONS) carry
// no credentials by design and reach no upstream, so they pass. With a
// verifier, a token Covage refused, or has not accepted within the last
// minute, is checked (bearer.go) before anything is served to it.
func passThrough(verifier *bearerVerifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		tok, ok := auth.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="covage"`)
			writeError(w, http.StatusUnauthorized, graph.CodeUnauthenticated, "a bearer token for Covage is required")
			return
		}
		ctx := covage.WithBearer(r.Context(), covage.Secret(tok))
		if verifier != nil {
			if err := verifier.verify(ctx, covage.Secret(tok)); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="covage", error="invalid_token"`)
				writeError(w, http.StatusUnauthorized, graph.CodeUnauthenticated, "Covage refused the bearer token")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

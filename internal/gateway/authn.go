package gateway

import (
	"net/http"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/auth"
)

// CodeForbidden is the code of a caller who is authenticated but lacks the
// required scope.
const CodeForbidden = "FORBIDDEN"

// enforceAuth refuses a request whose credential auth.Middleware refused:
// 401 with UNAUTHENTICATED, or 403 with FORBIDDEN for a missing scope, with
// the WWW-Authenticate challenge, before anything else runs.
func enforceAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ref, _ := auth.Outcome(r.Context())
		if ref == nil {
			next.ServeHTTP(w, r)
			return
		}
		code := graph.CodeUnauthenticated
		if ref.Status == http.StatusForbidden {
			code = CodeForbidden
		}
		w.Header().Set("WWW-Authenticate", ref.Challenge)
		writeError(w, ref.Status, code, ref.Message)
	})
}

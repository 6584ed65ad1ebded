package gateway

import (
	"context"
	"net/http"
	"time"
)

// withDeadline bounds the whole request, upstream calls included: when it
// passes, pending calls are cancelled and their fields answer
// UPSTREAM_TIMEOUT.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

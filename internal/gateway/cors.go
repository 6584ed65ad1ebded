package gateway

import (
	"net/http"

	"github.com/rs/cors"
)

// withCORS answers preflights and sets CORS headers for the allowlisted
// origins only; with none, no CORS header is ever sent, so browsers keep
// other origins out. Credentials are allowed, which only ever applies to an
// allowlisted origin.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Content-Type", "Accept", "Authorization", "X-API-Key", "Apollo-Require-Preflight", "X-Apollo-Operation-Name"},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(next)
}

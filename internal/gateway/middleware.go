package gateway

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/rs/cors"
)

// limitBody refuses bodies over max with 413: at once when Content-Length
// says so, and otherwise when reading passes the limit (the transport turns
// the reader's error into the 413).
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, bodyLimitMessage(max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

func bodyLimitMessage(max int64) string {
	return fmt.Sprintf("the request body is larger than the body limit of %d bytes", max)
}

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

// preventCSRF refuses the requests a browser sends cross-origin without a
// CORS preflight, as Apollo Server and Router do: a request whose
// Content-Type is missing or "simple" (text/plain,
// application/x-www-form-urlencoded, multipart/form-data), which includes
// every plain GET, must carry a non-empty Apollo-Require-Preflight or
// X-Apollo-Operation-Name header. A page on another origin can only set
// those after a preflight, which CORS then governs.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || !csrfable(r) ||
			r.Header.Get("Apollo-Require-Preflight") != "" || r.Header.Get("X-Apollo-Operation-Name") != "" {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusBadRequest, CodeCSRF,
			"this request has been blocked as a potential cross-site request forgery: send it with Content-Type: application/json, "+
				"or with a non-empty Apollo-Require-Preflight or X-Apollo-Operation-Name header")
	})
}

func csrfable(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

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

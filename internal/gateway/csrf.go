package gateway

import (
	"mime"
	"net/http"
)

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

package gateway

import (
	"mime"
	"net/http"
)

// preventCSRF refuses the requests a browser may send cross-origin without
// a CORS preflight: every GET, whatever its Content-Type, and any other
// request whose Content-Type is missing or "simple" (text/plain,
// application/x-www-form-urlencoded, multipart/form-data) must carry a
// non-empty Apollo-Require-Preflight or X-Apollo-Operation-Name header. A
// page on another origin can only set those after a preflight, which CORS
// then governs. Apollo Server and Router let a GET through on its
// Content-Type alone; a GET has no body for that header to describe, so we
// take the safe side and ask every GET for the header, as README.md says.
func preventCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || !csrfable(r) ||
			r.Header.Get("Apollo-Require-Preflight") != "" || r.Header.Get("X-Apollo-Operation-Name") != "" {
			next.ServeHTTP(w, r)
			return
		}
		msg := "this request has been blocked as a potential cross-site request forgery: send it with Content-Type: application/json, " +
			"or with a non-empty Apollo-Require-Preflight or X-Apollo-Operation-Name header"
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			msg = "this request has been blocked as a potential cross-site request forgery: a GET needs a non-empty " +
				"Apollo-Require-Preflight or X-Apollo-Operation-Name header"
		}
		writeError(w, http.StatusBadRequest, CodeCSRF, msg)
	})
}

func csrfable(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
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

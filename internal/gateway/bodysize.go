package gateway

import (
	"fmt"
	"net/http"
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

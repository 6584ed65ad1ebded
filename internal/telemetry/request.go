// Package telemetry is how the gateway reports what it does: a JSON log line
// per GraphQL request, Prometheus metrics on a private registry, and
// OpenTelemetry traces, tied together by a request id that travels to Covage.
//
// Nothing here is global: the registry, the tracer provider and the logger
// are built in main and passed in.
package telemetry

import (
	"context"
	"crypto/rand"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// RequestIDHeader carries the request id, from clients and to Covage.
const RequestIDHeader = "X-Request-Id"

// maxRequestID bounds an accepted X-Request-Id.
const maxRequestID = 128

// Request is what the gateway records about one HTTP request while it runs.
// It travels in the request's context, where the GraphQL extension and the
// upstream transport add to it.
type Request struct {
	// ID is the request id, accepted from the client or generated.
	ID    string
	start time.Time

	upstream atomic.Int64

	mu        sync.Mutex
	operation string // capped name, "" until known
	opType    string
	codes     []string // distinct error codes, in order of appearance
	errors    bool
	data      bool
}

type requestKey struct{}

// FromContext returns the request ctx belongs to, or nil outside one.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if r := FromContext(ctx); r != nil {
		return r.ID
	}
	return ""
}

// UpstreamCalls is how many HTTP calls to Covage the request made so far.
func (r *Request) UpstreamCalls() int64 { return r.upstream.Load() }

func (r *Request) setOperation(name, opType string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.operation, r.opType = name, opType
}

func (r *Request) addResult(codes []string, hasErrors, hasData bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range codes {
		if !slices.Contains(r.codes, c) {
			r.codes = append(r.codes, c)
		}
	}
	r.errors = r.errors || hasErrors
	r.data = r.data || hasData
}

// WithRequestID gives every request a Request in its context and answers
// with its id in X-Request-Id. A client's id is kept when it is 1 to 128
// printable ASCII characters; otherwise a random one is made.
func WithRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(RequestIDHeader, id)
		req := &Request{ID: id, start: time.Now()}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
	})
}

// ValidRequestID reports whether id may be used as given: 1 to 128
// printable ASCII characters, so it is safe in logs and headers.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

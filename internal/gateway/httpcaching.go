package gateway

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cespare/xxhash/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/plan"
)

// HTTP caching for clients and CDNs. Every GraphQL answer on /query carries
// a strong ETag computed from its JSON body before any encoding, and:
//
//   - a clean answer (no error, no stale field) of a query carries
//     Cache-Control: max-age=N, N being the least remaining freshness of
//     the shared-cache entries it was built from (0 when it read none, or
//     read one the shared cache does not vouch for: an endpoint whose TTL
//     is 0, or an expired value served while it is refreshed); public when
//     answers are the same for every caller, private otherwise;
//   - any other answer carries Cache-Control: no-store;
//   - Vary lists Accept and Accept-Encoding, and Authorization when
//     answers depend on the caller;
//   - a GET whose If-None-Match matches a clean answer's ETag gets 304
//     Not Modified with no body; on a response-cache hit nothing runs.

// delivery is one request's state shared by the transport, the response
// cache and the compressor; they all run on the request's goroutine.
type delivery struct {
	// callerSpecific makes answers private and adds Vary: Authorization.
	callerSpecific bool
	// reads records the shared-cache entries the answer was built from.
	reads *cache.Reads
	// rc and cached are the response cache and the entry the answer came
	// from or was stored as, when there is one.
	rc     *responseCache
	cached *cachedResponse
	// streams takes the large lists written at delivery rather than in
	// gqlgen's buffer (internal/plan/streams.go).
	streams plan.Streams
}

type deliveryKey struct{}

func deliveryOf(ctx context.Context) *delivery {
	st, _ := ctx.Value(deliveryKey{}).(*delivery)
	return st
}

// deliverQuery gives each /query request its delivery state and the
// compression that reuses the response cache's encodings. A list expected
// to take at least streamMin bytes is streamed (0: none is).
func deliverQuery(callerSpecific bool, streamMin int64, comp compression, next http.Handler) http.Handler {
	gz := comp.query(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &delivery{callerSpecific: callerSpecific, streams: plan.Streams{Min: streamMin}}
		gz.ServeHTTP(&deliveryWriter{ResponseWriter: w, st: st}, r.WithContext(context.WithValue(r.Context(), deliveryKey{}, st)))
	})
}

// streamMin is the least size of a streamed list: an answer the response
// cache could keep is built whole, so that it can be kept.
func (o Options) streamMin() int64 {
	if o.StreamMinBytes <= 0 {
		return 0
	}
	if _, ok := o.Upstream.(*cache.Cache); ok && o.ResponseCache.MaxBytes > 0 {
		return max(o.StreamMinBytes, o.ResponseCache.MaxBytes/8+1)
	}
	return o.StreamMinBytes
}

// withDelivery returns the context an operation executes in: it records,
// for the answer's Cache-Control, the shared-cache entries the request
// reads, and lets the fast path stream large lists, which deliver then
// writes.
func withDelivery(ctx context.Context) context.Context {
	st := deliveryOf(ctx)
	if st == nil {
		return ctx
	}
	ctx, st.reads = cache.WithReads(ctx)
	return plan.WithStreams(ctx, &st.streams)
}

// deliver writes a GraphQL answer with its caching headers, or 304 when
// the client holds it already.
func deliver(w http.ResponseWriter, r *http.Request, status int, resp *graphql.Response, query bool) {
	st := deliveryOf(r.Context())
	var streams *plan.Streams
	if st != nil {
		streams = &st.streams
	}
	// Measured first: an answer whose streamed lists pass the response
	// limit is replaced by its refusal, which is not cacheable.
	resp, body := bodyOf(resp, streams)
	h := w.Header()
	h.Add("Vary", "Accept")
	if st != nil && st.callerSpecific {
		h.Add("Vary", "Authorization")
		h.Add("Vary", "X-API-Key")
	}
	clean := status == http.StatusOK && query && resp != nil && len(resp.Errors) == 0 && resp.Extensions["stale"] == nil
	if !clean || st == nil {
		h.Set("Cache-Control", "no-store")
		body.write(w, status, body.etag(etagOf))
		return
	}
	var fresh int64
	if st.reads != nil {
		st.reads.Seal()
		fresh = int64(st.reads.FreshFor().Seconds())
	}
	scope := "public"
	if st.callerSpecific {
		scope = "private"
	}
	h.Set("Cache-Control", scope+", max-age="+strconv.FormatInt(fresh, 10))
	etag := etagOf
	if st.cached != nil && st.cached.etag != "" {
		kept := st.cached.etag
		etag = func(...[]byte) string { return kept }
	}
	if r.Method == http.MethodGet {
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			if matched, ok := etagMatches(inm, body.etag(etag)); ok {
				// The 304 names the representation the client holds,
				// encoding suffix included.
				h.Set("ETag", matched)
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	body.write(w, status, body.etag(etag))
}

// etagOf is the strong ETag of a JSON body given in parts: its length and
// a 64-bit xxHash of its bytes, before any encoding. The tag only has to
// change when the body does (an accidental collision is a 2^-64 chance
// between two versions of one answer), and xxHash costs a tenth of
// SHA-256 on a 500 kB answer. It is the same on every replica.
func etagOf(parts ...[]byte) string {
	t := newTagger()
	for _, p := range parts {
		t.write(p)
	}
	return t.tag()
}

// tagger computes etagOf over a body written to it piece by piece.
type tagger struct {
	h *xxhash.Digest
	n int
}

func newTagger() tagger { return tagger{h: xxhash.New()} }

func (t *tagger) write(p []byte) {
	_, _ = t.h.Write(p)
	t.n += len(p)
}

func (t *tagger) tag() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], t.h.Sum64())
	return `"` + strconv.Itoa(t.n) + "-" + base64.RawURLEncoding.EncodeToString(b[:]) + `"`
}

// etagMatches reports whether an If-None-Match list names tag, and which
// of its entries did. Comparison is weak, as RFC 9110 asks for
// If-None-Match: a W/ prefix is ignored, and so is the encoding suffix
// gzhttp adds to the ETag of a compressed answer.
func etagMatches(inm, tag string) (string, bool) {
	for entry := range strings.SplitSeq(inm, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "*" {
			return tag, true
		}
		opaque := strings.TrimPrefix(entry, "W/")
		for _, enc := range []string{encodingGzip, encodingZstd} {
			opaque = strings.Replace(opaque, "-"+enc+`"`, `"`, 1)
		}
		if opaque == tag {
			return strings.TrimPrefix(entry, "W/"), true
		}
	}
	return "", false
}

// writeRefusal answers a request refused before execution (parse,
// validation, limits): as the GraphQL spec says, such an answer has no
// data entry at all, only errors.
func writeRefusal(w http.ResponseWriter, status int, resp *graphql.Response) {
	w.Header().Add("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-store")
	body, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		body = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	w.Header().Set("ETag", etagOf(body))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

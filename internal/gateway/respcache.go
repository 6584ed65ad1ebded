package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/plan"
)

// The response cache keeps whole answers of queries, so that a form that
// fills the same dropdowns again skips execution altogether. It sits on the
// shared cache (internal/cache) and can never serve what a fresh execution
// would not: an answer is kept only when every upstream read it made was
// answered from a shared-cache entry (no error, no stale value, no endpoint
// with a TTL of 0), and it is reused only while each of those entries is
// still the fresh entry a new lookup would return. Its key holds the caller's
// credential identity, the operation, and the variables.

// ResponseCache configures the response cache.
type ResponseCache struct {
	// MaxBytes bounds the answers kept, by the size of their data; off when
	// 0. Answers larger than an eighth of it are not kept.
	MaxBytes int64
	// OnEvent is told of each lookup: "hit" or "miss".
	OnEvent func(result string)
}

// maxResponses bounds the answers kept, whatever their size.
const maxResponses = 8192

// responseCache is the gqlgen extension.
type responseCache struct {
	cfg      ResponseCache
	identity func(context.Context) string

	mu    sync.Mutex
	lru   *lru.Cache[[sha256.Size]byte, *cachedResponse]
	bytes int64
}

type cachedResponse struct {
	data  json.RawMessage
	reads *cache.Reads
	// etag is the ETag of the answer's body, computed once.
	etag string
	// key is the entry's key in the cache.
	key [sha256.Size]byte
	// gzip and zstd are the body as sent with each encoding, kept the first
	// time one is sent (compress.go), so that a warm answer is never
	// compressed twice; guarded by responseCache.mu.
	gzip, zstd encodedBody
}

// size is the memory the entry holds: the capacity of its data and of
// its encodings, not their lengths.
func (r *cachedResponse) size() int64 { return int64(cap(r.data) + r.gzip.size() + r.zstd.size()) }

// keepable returns data as the cache should hold it: gqlgen's response
// buffer has grown by doubling (and the fast path sizes it for the largest
// answer of the same query), so its capacity can be twice its length or
// more; such a buffer is copied to its length rather than kept whole.
func keepable(data json.RawMessage) json.RawMessage {
	if cap(data)-len(data) <= len(data)/8 {
		return data
	}
	return append(json.RawMessage(nil), data...)
}

var (
	_ graphql.HandlerExtension    = (*responseCache)(nil)
	_ graphql.ResponseInterceptor = (*responseCache)(nil)
)

func newResponseCache(cfg ResponseCache, identity func(context.Context) string) *responseCache {
	rc := &responseCache{cfg: cfg, identity: identity}
	// Entries are bounded by the bytes of their data, below, and by count,
	// so that many tiny answers cannot grow the bookkeeping (a few hundred
	// bytes per entry) without bound.
	rc.lru, _ = lru.NewWithEvict(maxResponses, func(_ [sha256.Size]byte, r *cachedResponse) { rc.bytes -= r.size() })
	return rc
}

func (*responseCache) ExtensionName() string                   { return "ResponseCache" }
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse answers from the cache, or runs the operation and keeps
// its answer when it may be reused.
func (rc *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	key, ok := rc.key(ctx, oc)
	if !ok {
		return next(ctx)
	}
	rc.mu.Lock()
	hit, found := rc.lru.Get(key)
	rc.mu.Unlock()
	st := deliveryOf(ctx)
	if found && hit.reads.Current() {
		rc.event("hit")
		if st != nil {
			st.rc, st.cached, st.reads = rc, hit, hit.reads
		}
		return &graphql.Response{Data: hit.data}
	}
	rc.event("miss")

	// The transport records the request's reads for Cache-Control; they are
	// the ones this answer was built from.
	reads := cache.ReadsOf(ctx)
	if reads == nil {
		ctx, reads = cache.WithReads(ctx)
	}
	resp := next(ctx)
	reusable := reads.Seal()
	// An answer with streamed lists is not whole in memory to keep.
	if resp == nil || !reusable || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || plan.StreamsOf(ctx).Len() > 0 ||
		resp.Label != "" || resp.Path != nil || resp.HasNext != nil ||
		int64(len(resp.Data)) > rc.cfg.MaxBytes/8 {
		return resp
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if old, ok := rc.lru.Peek(key); ok {
		rc.bytes -= old.size()
	}
	entry := &cachedResponse{key: key, data: keepable(resp.Data), reads: reads, etag: etagOf([]byte(`{"data":`), resp.Data, []byte(`}`))}
	if st != nil {
		st.rc, st.cached = rc, entry
	}
	rc.lru.Add(key, entry)
	rc.bytes += entry.size()
	for rc.bytes > rc.cfg.MaxBytes {
		rc.lru.RemoveOldest()
	}
	return resp
}

// key hashes what the answer depends on besides the upstream data: the
// credential's identity, the query, the operation name and the variables.
func (rc *responseCache) key(ctx context.Context, oc *graphql.OperationContext) ([sha256.Size]byte, bool) {
	vars, err := json.Marshal(oc.Variables) // maps marshal with sorted keys
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	h := sha256.New()
	for _, part := range []string{rc.identity(ctx), oc.OperationName, oc.RawQuery} {
		// Each part with its length first, so that no two keys concatenate
		// to the same bytes.
		_, _ = h.Write([]byte{byte(len(part) >> 24), byte(len(part) >> 16), byte(len(part) >> 8), byte(len(part))})
		_, _ = h.Write([]byte(part))
	}
	_, _ = h.Write(vars)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, true
}

func (rc *responseCache) event(result string) {
	if rc.cfg.OnEvent != nil {
		rc.cfg.OnEvent(result)
	}
}

// encoded returns the body of e as sent with encoding, if kept.
func (rc *responseCache) encoded(e *cachedResponse, encoding string) encodedBody {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if encoding == encodingGzip {
		return e.gzip
	}
	return e.zstd
}

// keepEncoded keeps the body of e as sent with encoding, counted in the
// cache's bytes, while e is still cached. The body is kept as it is, not
// copied: nothing writes to it afterwards.
func (rc *responseCache) keepEncoded(e *cachedResponse, encoding string, body encodedBody) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.lru.Contains(e.key) {
		return
	}
	switch {
	case encoding == encodingGzip && e.gzip == nil:
		e.gzip = body
	case encoding == encodingZstd && e.zstd == nil:
		e.zstd = body
	default:
		return
	}
	rc.bytes += int64(body.size())
	for rc.bytes > rc.cfg.MaxBytes {
		rc.lru.RemoveOldest()
	}
}

package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/cache"
)

// staleField is one entry of the response's extensions.stale: a field (or
// the upstream call behind it) answered from a cached value Covage could
// not refresh.
type staleField struct {
	Path       []any  `json:"path,omitempty"`
	Endpoint   string `json:"endpoint"`
	AgeSeconds int    `json:"ageSeconds"`
}

// staleCollector gathers one request's stale answers. The cache reports
// into it from resolver and loader goroutines, so it locks.
type staleCollector struct {
	mu     sync.Mutex
	fields []staleField
	seen   map[string]bool
}

type staleKey struct{}

// collectStale gives every request a collector, installed as the cache's
// stale reporter.
func collectStale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		col := &staleCollector{}
		ctx := context.WithValue(r.Context(), staleKey{}, col)
		ctx = cache.WithStaleReporter(ctx, col.report)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// report records a stale answer under the GraphQL field being resolved, if
// the call came from one (a look-ahead prefetch may not have a field).
func (c *staleCollector) report(ctx context.Context, endpoint string, age time.Duration) {
	f := staleField{Endpoint: endpoint, AgeSeconds: int(math.Round(age.Seconds()))}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		for _, p := range fc.Path() {
			switch p := p.(type) {
			case ast.PathName:
				f.Path = append(f.Path, string(p))
			case ast.PathIndex:
				f.Path = append(f.Path, int(p))
			}
		}
	}
	key := endpoint + "\x00" + graphPath(f.Path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[key] {
		return
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[key] = true
	c.fields = append(c.fields, f)
}

// graphPath is p as one string, indexes included: each parent's field of
// a relation is a field of its own.
func graphPath(p []any) string {
	var b strings.Builder
	for _, e := range p {
		b.WriteString("/")
		if s, ok := e.(string); ok {
			b.WriteString(s)
		} else {
			fmt.Fprintf(&b, "#%v", e)
		}
	}
	return b.String()
}

// list returns a copy of what was reported so far.
func (c *staleCollector) list() []staleField {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]staleField(nil), c.fields...)
}

// staleExtension adds extensions.stale to a response when any field was
// answered from stale data, so clients can tell and say so.
func staleExtension(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	col, ok := ctx.Value(staleKey{}).(*staleCollector)
	if resp == nil || !ok {
		return resp
	}
	if fields := col.list(); len(fields) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["stale"] = fields
	}
	return resp
}

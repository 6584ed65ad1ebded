// Package plan reads a GraphQL operation before it runs and decides how its
// fields are fetched and written, so that a query costs the fewest upstream
// round trips and the least CPU. The model, in one place:
//   - What it reads: the operation's selection sets (fragments, aliases,
//     @skip/@include with the request's variables) and the list fields
//     above the current field, from gqlgen's operation and field contexts.
//   - Which loaders a field reaches: the reach table (reach.go), one entry
//     per schema field that has a resolver, checked against the whole
//     schema by graph's TestEveryResolverFieldIsPlanned.
//   - How many keys will come: every field reaching a keyed loader with no
//     list above it brings one key; a relation (a batch resolver) under at
//     most one list makes one call with all its parents' keys.
//   - When a batch leaves without a window: when those counts show every
//     key the loader will get (loaders.Alone, Expect, ExpectCalls).
//   - Look-ahead (lookahead.go): a root list starts the lists its nested
//     relations will read, so each level does not cost a round trip.
//   - When a list is written directly (fastlist.go): every selected field
//     of its objects is a bound leaf, or one level of relation whose list
//     is already fetched or in flight; otherwise gqlgen writes it.
//
// The loaders only obey: Alone, Expect and ExpectCalls mark the context, and
// internal/loaders sends a batch early when the marked keys or calls have
// arrived. A Planner (the fast path's writers and memo) lives as long as its
// gqlgen server; nothing here is package-level state but constant tables.
package plan

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Planner is the fast path's state for one server: the writers of each
// object type and the memo of collected selections. Build one per gqlgen
// server with New and install its FastLists with AroundFields.
type Planner struct {
	types map[string]lister

	mu   sync.RWMutex
	memo map[memoKey]memoEntry
}

// New returns a Planner with an empty memo.
func New() *Planner {
	return &Planner{types: objects(), memo: make(map[memoKey]memoEntry)}
}

// Writable lists, per object type, the fields the fast path writes itself
// (leaves and relations), for the test that checks them against the
// schema.
func (p *Planner) Writable() map[string][]string {
	out := make(map[string][]string, len(p.types))
	for name, t := range p.types {
		out[name] = t.writable()
	}
	return out
}

// memoKey identifies a selection set of up to 8 selections by their
// pointers into gqlgen's cached document; larger ones are collected every
// time.
type memoKey struct {
	t   lister
	n   int
	sel [8]ast.Selection
}

type memoEntry struct {
	plan compiled
	size *atomic.Int64 // bytes written last time; see rendered
	ok   bool
}

// memoLimit bounds the memo: it is dropped whole when it reaches this many
// entries, which bounds it without an LRU's bookkeeping.
const memoLimit = 4096

// collectMemo is t.plan, remembered per selection set of a parsed query
// when it holds no directive, so that the answer cannot depend on the
// variables. gqlgen's query cache keeps the parsed document, so the 500
// Project.ennis fields of one request, and the same query in later
// requests, collect once. The key is the selections themselves (pointers
// into the document), not the field: gqlgen merges the selections of a
// field repeated through fragments, so one field can carry different
// selections in different places.
func (p *Planner) collectMemo(t lister, oc *graphql.OperationContext, sel ast.SelectionSet) (compiled, *atomic.Int64, bool) {
	if len(sel) > len(memoKey{}.sel) || !static(sel, 0) {
		c, ok := t.plan(oc, sel)
		return c, nil, ok
	}
	key := memoKey{t: t, n: len(sel)}
	copy(key.sel[:], sel)
	p.mu.RLock()
	m, hit := p.memo[key]
	p.mu.RUnlock()
	if hit {
		return m.plan, m.size, m.ok
	}
	c, ok := t.plan(oc, sel)
	size := new(atomic.Int64)
	p.mu.Lock()
	if len(p.memo) >= memoLimit {
		clear(p.memo)
	}
	p.memo[key] = memoEntry{c, size, ok}
	p.mu.Unlock()
	return c, size, ok
}

// static reports whether sel, fragments included, carries no directive, so
// that collecting it does not depend on the variables.
func static(sel ast.SelectionSet, depth int) bool {
	if depth > 16 {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || !static(s.SelectionSet, depth+1) {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !static(s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil || len(s.Definition.Directives) > 0 || !static(s.Definition.SelectionSet, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// stopKey carries the response budget's check to the fast path.
type stopKey struct{}

// WithStop returns ctx carrying stop, which a list written directly asks,
// with the bytes written so far, after each item: true drops the answer
// (the response budget then replaces it whole).
func WithStop(ctx context.Context, stop func(written int) bool) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

func stopOf(ctx context.Context) func(int) bool {
	if stop, ok := ctx.Value(stopKey{}).(func(int) bool); ok {
		return stop
	}
	return never
}

func never(int) bool { return false }

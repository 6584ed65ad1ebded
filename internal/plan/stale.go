package plan

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/covage/gateway/internal/cache"
)

// Stale paths: the cache reports a stale answer to the context of the call
// that read it, and the loaders report it again to each caller of a shared
// call (internal/loaders/memo.go), so a root list is stale at its own
// response key, aliases included. A relation is resolved once for all the
// parents of a list (a batch resolver, or the fast path), under one
// parent's context: staleNotes records what its load reported and reports
// it again at the path of each parent's field, so that `projects { ennis }`
// is stale at ["projects", i, "ennis"] for every project i that read the
// door list.

// staleNotes records the stale answers reported to one context.
type staleNotes struct {
	mu    sync.Mutex
	notes []staleNote
}

type staleNote struct {
	endpoint string
	age      time.Duration
}

// recordStale returns ctx with a reporter that records into the returned
// notes, or ctx and nil when no reporter is installed.
func recordStale(ctx context.Context) (context.Context, *staleNotes) {
	if _, ok := cache.StaleReporterFrom(ctx); !ok {
		return ctx, nil
	}
	n := &staleNotes{}
	return cache.WithStaleReporter(ctx, func(_ context.Context, endpoint string, age time.Duration) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.notes = append(n.notes, staleNote{endpoint, age})
	}), n
}

// count is the number of answers recorded so far.
func (n *staleNotes) count() int {
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.notes)
}

// reportEach reports the recorded answers to ctx's reporter once per
// parent: at the path of field (a field of the list elements) under list
// (the list field's context) at each index in parents.
func (n *staleNotes) reportEach(ctx context.Context, list *graphql.FieldContext, field graphql.CollectedField, parents []int) {
	if n == nil {
		return
	}
	n.mu.Lock()
	notes := n.notes
	n.mu.Unlock()
	report, ok := cache.StaleReporterFrom(ctx)
	if len(notes) == 0 || !ok {
		return
	}
	for _, i := range parents {
		// WithFieldContext links a context to the current field; this
		// one is relinked under parent i of the list.
		f := &graphql.FieldContext{Field: field}
		at := graphql.WithFieldContext(ctx, f)
		f.Parent = &graphql.FieldContext{Parent: list, Index: &i}
		for _, note := range notes {
			report(at, note.endpoint, note.age)
		}
	}
}

// reportHere reports the recorded answers at ctx's own field.
func (n *staleNotes) reportHere(ctx context.Context) {
	if n == nil {
		return
	}
	n.mu.Lock()
	notes := n.notes
	n.mu.Unlock()
	if report, ok := cache.StaleReporterFrom(ctx); ok {
		for _, note := range notes {
			report(ctx, note.endpoint, note.age)
		}
	}
}

package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/loaders"
)

// Lone keys: a keyed loader waits for a batching window so that the keys
// of sibling fields share one upstream call. When the operation shows that
// the current field is the only one that can use the loader, and that no
// list lies above it, its key is the only key the loader will get, and the
// window could only add latency (about a millisecond per level: see
// loaders.Alone). `{ project(code: "X") { ennis { reference } } }`, the
// shape of a lookup form, then costs two round trips and no window.

// Field names that reach each keyed loader. The count is syntactic (any
// field of that name, at any level, through every fragment, @skip ignored),
// so it can only overcount, which keeps the window.
var (
	projectByCodeFields    = []string{"project", "node"}
	enniByReferenceFields  = []string{"enni", "node"}
	businessByCodeFields   = []string{"business", "node"}
	ennisOfClientFields    = []string{"ennis"}
	projectsOfClientFields = []string{"projects"}
)

// lone returns ctx marked loaders.Alone when the current field is the only
// field of the operation named in names and has no list above it, and ctx
// unchanged otherwise.
func lone(ctx context.Context, names []string) context.Context {
	return markAlone(ctx, names, 0)
}

// loneBatch is lone for a batch resolver, which holds every sibling parent
// of the one list above it: one list level is allowed.
func loneBatch(ctx context.Context, names []string) context.Context {
	return markAlone(ctx, names, 1)
}

func markAlone(ctx context.Context, names []string, lists int) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return ctx
	}
	for f := fc; f != nil; f = f.Parent {
		if f.Index != nil {
			if lists == 0 {
				return ctx
			}
			lists--
		}
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || countFields(oc.Operation.SelectionSet, names, 0) != 1 {
		return ctx
	}
	return loaders.Alone(ctx)
}

// countFields counts the fields named in names under sel, stopping at 2.
func countFields(sel ast.SelectionSet, names []string, depth int) int {
	if depth > 64 {
		return 2 // deeper than any valid operation here; keep the window
	}
	n := 0
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if slices.Contains(names, s.Name) {
				n++
			}
			n += countFields(s.SelectionSet, names, depth+1)
		case *ast.InlineFragment:
			n += countFields(s.SelectionSet, names, depth+1)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return 2
			}
			n += countFields(s.Definition.SelectionSet, names, depth+1)
		}
		if n > 1 {
			return n
		}
	}
	return n
}

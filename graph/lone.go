package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/loaders"
)

// Lone keys: a keyed loader waits for a batching window so that the keys
// of sibling fields share one upstream call. The operation often shows how
// many keys will come: when the current field is the only one that can use
// the loader and no list lies above it, its key is the only key the loader
// will get, and the window could only add latency (about a millisecond per
// level: see loaders.Alone). `{ project(code: "X") { ennis { reference } } }`,
// the shape of a lookup form, then costs two round trips and no window.
// When several such fields use the loader, none under a list, each brings
// one key, and the batch leaves as soon as they have all arrived
// (loaders.Expect).

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

// lone returns ctx marked with the number of keys the loader reached by the
// fields named in names will get, when the operation shows it: every such
// field has no list above it, so each brings one key. Otherwise ctx is
// returned unchanged.
func lone(ctx context.Context, names []string) context.Context {
	oc, ok := operation(ctx, 0)
	if !ok {
		return ctx
	}
	n, listed := countFields(oc.Operation.SelectionSet, names, false, 0)
	switch {
	case listed || n == 0:
		return ctx
	case n == 1:
		return loaders.Alone(ctx)
	default:
		return loaders.Expect(ctx, n)
	}
}

// loneBatch is lone for a batch resolver, which holds every sibling parent
// of the one list above it: when its field is the only one named in names,
// the keys of those parents are all the keys the loader will get. Else, for
// parents outside any list, it is lone.
func loneBatch(ctx context.Context, names []string) context.Context {
	oc, ok := operation(ctx, 1)
	if !ok {
		return ctx
	}
	if n, _ := countFields(oc.Operation.SelectionSet, names, false, 0); n == 1 {
		return loaders.Alone(ctx)
	}
	return lone(ctx, names)
}

// operation returns the operation when the current field has at most lists
// lists above it.
func operation(ctx context.Context, lists int) (*graphql.OperationContext, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil, false
	}
	for f := fc; f != nil; f = f.Parent {
		if f.Index != nil {
			if lists == 0 {
				return nil, false
			}
			lists--
		}
	}
	oc := graphql.GetOperationContext(ctx)
	return oc, oc.Operation != nil
}

// countFields counts the fields named in names under sel, and reports
// whether any of them lies under a list-typed field (or one whose type is
// unknown). under says whether sel itself does.
func countFields(sel ast.SelectionSet, names []string, under bool, depth int) (n int, listed bool) {
	if depth > 64 {
		return 2, true // deeper than any valid operation here; keep the window
	}
	for _, s := range sel {
		var c int
		var l bool
		switch s := s.(type) {
		case *ast.Field:
			if slices.Contains(names, s.Name) {
				n++
				listed = listed || under
			}
			list := s.Definition == nil || s.Definition.Type == nil || s.Definition.Type.Elem != nil
			c, l = countFields(s.SelectionSet, names, under || (list && len(s.SelectionSet) > 0), depth+1)
		case *ast.InlineFragment:
			c, l = countFields(s.SelectionSet, names, under, depth+1)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return 2, true
			}
			c, l = countFields(s.Definition.SelectionSet, names, under, depth+1)
		}
		n += c
		listed = listed || l
	}
	return n, listed
}

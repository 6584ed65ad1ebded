package plan

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/domain"
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
// (loaders.Expect). Relations are batch resolvers, called once per field
// with every parent of the list above it: with at most one list above each
// such field, the calls are counted instead (loaders.ExpectCalls).

// Lone returns ctx marked with the number of keys the loader will get,
// when the operation shows it: every field that reaches the loader (the
// reach table) has no list above it, so each brings one key. Otherwise ctx
// is returned unchanged.
func Lone(ctx context.Context, l Loader) context.Context {
	return mark(ctx, reachedBy[l], 0, loaders.Expect)
}

// loneBatch is for a batch resolver, which holds every sibling parent of
// the list above it (if any). When every field reaching l has at most one
// list above it, each makes one batch call: alone when there is one such
// field, else the loader gathers the calls (loaders.ExpectCalls).
func loneBatch(ctx context.Context, l Loader) context.Context {
	return mark(ctx, reachedBy[l], 1, loaders.ExpectCalls)
}

// mark marks ctx Alone when one field in names reaches the loader, or with
// several(ctx, n) when n do, provided none has more than lists lists above
// it.
func mark(ctx context.Context, names []string, lists int, several func(context.Context, int) context.Context) context.Context {
	oc, ok := operation(ctx, lists)
	if !ok {
		return ctx
	}
	n, most := countFields(oc.Operation.SelectionSet, names, 0, 0)
	switch {
	case most > lists || n == 0:
		return ctx
	case n > 1 && slices.Contains(names, entitiesField) && hasField(oc.Operation.SelectionSet, entitiesField):
		// Expect counts one key per field, which _entities breaks.
		return ctx
	case n == 1:
		return loaders.Alone(ctx)
	default:
		return several(ctx, n)
	}
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

// countFields counts the fields in names under sel, and returns the most
// lists (list-typed fields, or fields of unknown type) found above one of
// them. lists is the number above sel itself.
func countFields(sel ast.SelectionSet, names []string, lists, depth int) (n, most int) {
	if depth > 64 {
		return 2, 2 // deeper than any valid operation here; keep the window
	}
	for _, s := range sel {
		var c, m int
		switch s := s.(type) {
		case *ast.Field:
			if matches(s, names) {
				n++
				most = max(most, lists)
			}
			below := lists
			if len(s.SelectionSet) > 0 && (s.Definition == nil || s.Definition.Type == nil || s.Definition.Type.Elem != nil) {
				below++
			}
			c, m = countFields(s.SelectionSet, names, below, depth+1)
		case *ast.InlineFragment:
			c, m = countFields(s.SelectionSet, names, lists, depth+1)
		case *ast.FragmentSpread:
			if s.Definition == nil {
				return 2, 2
			}
			c, m = countFields(s.Definition.SelectionSet, names, lists, depth+1)
		}
		n += c
		most = max(most, m)
	}
	return n, most
}

// hasField reports whether the field name (Type.field) is selected under
// sel, at any level.
func hasField(sel ast.SelectionSet, name string) bool {
	n, _ := countFields(sel, []string{name}, 0, 0)
	return n > 0
}

// matches reports whether f is one of names (Type.field). A field whose
// parent type the validator did not record matches by its name alone, so
// that the count can only err upwards.
func matches(f *ast.Field, names []string) bool {
	if f.ObjectDefinition == nil {
		return slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, "."+f.Name) })
	}
	return slices.Contains(names, f.ObjectDefinition.Name+"."+f.Name)
}

// Lookups beside their root list: `{ projects { code } project(code: "X") { code } }`
// asks for the whole project list anyway, so the lookup must read from it
// rather than race it. A lone key goes out at once, and when the root
// list's resolver had not started its call yet, the key took the filtered
// call (`project?code=X`): one call or two, by timing. The lookup starts
// the root list itself when the operation asks for it, unfiltered and not
// skipped (it costs nothing: the root field would start it anyway, and the
// two share it), so the key always reads from the list.

// ProjectByCode resolves a project lookup (Query.project, Query.node).
func ProjectByCode(ctx context.Context, code string) (*domain.Project, error) {
	l := loaders.For(ctx)
	if rootListAsked(ctx, "projects") {
		l.PrefetchProjects(ctx, domain.ProjectFilter{})
	}
	return l.ProjectByCode(Lone(ctx, ProjectByCodeLoader), code)
}

// EnniByReference resolves a door lookup (Query.enni, Query.node).
func EnniByReference(ctx context.Context, ref string) (*domain.Enni, error) {
	l := loaders.For(ctx)
	if rootListAsked(ctx, "ennis") {
		l.PrefetchEnnis(ctx, domain.EnniFilter{})
	}
	return l.EnniByReference(Lone(ctx, EnniByReferenceLoader), ref)
}

// BusinessByCode resolves a business lookup (Query.business, Query.node).
func BusinessByCode(ctx context.Context, code string) (*domain.Business, error) {
	return loaders.For(ctx).BusinessByCode(Lone(ctx, BusinessByCodeLoader), code)
}

// rootListAsked reports whether the operation selects the root field name
// without a filter (absent, null, or with every field null), @skip and
// @include applied.
func rootListAsked(ctx context.Context, name string) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil {
		return false
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name != name {
			continue
		}
		filter, _ := f.ArgumentMap(oc.Variables)["filter"].(map[string]any)
		empty := true
		for _, v := range filter {
			empty = empty && v == nil
		}
		if empty {
			return true
		}
	}
	return false
}

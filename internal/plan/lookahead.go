package plan

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// Look-ahead: a root list reads its own selection set and starts the list
// calls its nested relations will need at the same time as its own call, so
// `{ projects { ennis { … } } }` costs one upstream round trip, not one per
// level. It only starts a call the relation's loader would make anyway: when
// the root list is unfiltered, or once the root list shows that more than
// one client is involved (so the nested loader would fetch the whole list).

// Projects resolves Query.projects with look-ahead for Project.ennis.
func Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error) {
	l := loaders.For(ctx)
	nested := nestedEnniFilters(ctx)
	unfiltered := f == domain.ProjectFilter{}
	if unfiltered {
		PrefetchEnnis(ctx, l, nested)
	}
	list, err := l.Projects(ctx, f)
	if err == nil && !unfiltered && len(nested) > 0 && Distinct(list, func(p *domain.Project) *string { return p.ClientCode }) > 1 {
		PrefetchEnnis(ctx, l, nested)
	}
	return list, err
}

// Ennis resolves Query.ennis with look-ahead for Enni.projects, which always
// reads the unfiltered project list.
func Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error) {
	l := loaders.For(ctx)
	nested := len(childFields(ctx, "Enni", "projects")) > 0
	unfiltered := f == domain.EnniFilter{}
	if nested && unfiltered {
		l.PrefetchProjects(ctx, domain.ProjectFilter{})
	}
	list, err := l.Ennis(ctx, f)
	if err == nil && nested && !unfiltered && Distinct(list, func(e *domain.Enni) *string { return e.ShortName }) > 0 {
		l.PrefetchProjects(ctx, domain.ProjectFilter{})
	}
	return list, err
}

// PrefetchEnnis starts the door lists for the nested filters that do not
// name a client themselves (those are served by their own filtered call).
func PrefetchEnnis(ctx context.Context, l *loaders.Loaders, filters []domain.EnniFilter) {
	for _, f := range filters {
		if f.ShortName == nil {
			l.PrefetchEnnis(ctx, f)
		}
	}
}

// nestedEnniFilters returns the filter of each Project.ennis field selected
// directly under the current field.
func nestedEnniFilters(ctx context.Context) []domain.EnniFilter {
	return EnniFiltersOf(ctx, childFields(ctx, "Project", "ennis"))
}

// EnniFiltersOf returns the filter of each Project.ennis field in
// fields.
func EnniFiltersOf(ctx context.Context, fields []graphql.CollectedField) []domain.EnniFilter {
	if len(fields) == 0 {
		return nil
	}
	vars := graphql.GetOperationContext(ctx).Variables
	filters := make([]domain.EnniFilter, 0, len(fields))
	for _, field := range fields {
		arg, _ := field.ArgumentMap(vars)["filter"].(map[string]any)
		filters = append(filters, EnniFilterFromArg(arg))
	}
	return filters
}

// childFields returns the fields named name selected under the current
// field for objects of type typeName, fragments and @skip/@include applied.
func childFields(ctx context.Context, typeName, name string) []graphql.CollectedField {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return nil
	}
	var out []graphql.CollectedField
	for _, child := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{typeName}) {
		if child.Name == name {
			out = append(out, child)
		}
	}
	return out
}

// EnniFilterFromArg reads an EnniFilter argument as the validator left it:
// strings, a bool and an enum name.
func EnniFilterFromArg(arg map[string]any) domain.EnniFilter {
	str := func(name string) *string {
		if s, ok := arg[name].(string); ok {
			return &s
		}
		return nil
	}
	f := domain.EnniFilter{
		Reference:    str("reference"),
		Name:         str("name"),
		ShortName:    str("shortName"),
		Dsp:          str("dsp"),
		DeliveryMode: str("deliveryMode"),
	}
	if b, ok := arg["active"].(bool); ok {
		f.Active = &b
	}
	if s := str("offer"); s != nil {
		o := domain.Offer(*s)
		f.Offer = &o
	}
	return f
}

// Distinct counts the distinct non-nil keys of list, to tell when a
// filtered list involves more than one client.
func Distinct[T any](list []*T, keyOf func(*T) *string) int {
	seen := make(map[string]struct{})
	for _, item := range list {
		if k := keyOf(item); k != nil {
			seen[*k] = struct{}{}
		}
	}
	return len(seen)
}

// ProjectFilterFromArg reads a ProjectFilter argument value as the
// validator left it.
func ProjectFilterFromArg(arg map[string]any) domain.ProjectFilter {
	var f domain.ProjectFilter
	if s, ok := arg["code"].(string); ok {
		f.Code = &s
	}
	if b, ok := arg["active"].(bool); ok {
		f.Active = &b
	}
	return f
}

// NodeFields returns the fields named name selected on typeName under the
// current connection field's nodes and edges.node, fragments and
// @skip/@include applied.
func NodeFields(ctx context.Context, typeName, name string) []graphql.CollectedField {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	pick := func(sel []graphql.CollectedField, out []graphql.CollectedField) []graphql.CollectedField {
		for _, f := range sel {
			if f.Name == name {
				out = append(out, f)
			}
		}
		return out
	}
	var out []graphql.CollectedField
	for _, c := range graphql.CollectFields(oc, fc.Field.Selections, []string{fc.Field.Definition.Type.NamedType}) {
		switch {
		case c.Name == "nodes":
			out = pick(graphql.CollectFields(oc, c.Selections, []string{typeName}), out)
		case c.Name == "edges" && c.Definition != nil && c.Definition.Type.Elem != nil:
			for _, e := range graphql.CollectFields(oc, c.Selections, []string{c.Definition.Type.Elem.NamedType}) {
				if e.Name == "node" {
					out = pick(graphql.CollectFields(oc, e.Selections, []string{typeName}), out)
				}
			}
		}
	}
	return out
}

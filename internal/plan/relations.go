package plan

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// Relations are batch resolvers (batch: true in gqlgen.yml): gqlgen hands
// them every sibling parent of a list in one call, so the keys of the whole
// list are known at once. When the operation shows that these are all the
// keys the loader will see (see lone.go), they are loaded at once with no
// batching window; otherwise they join the dataloader's batch, which may
// also hold keys from other fields. Either way a relation costs one
// upstream call for any number of parents.

// EnnisOfProjects resolves Project.ennis for sibling projects.
func EnnisOfProjects(ctx context.Context, parents []*domain.Project, f domain.EnniFilter) ([][]*domain.Enni, error) {
	return resolveRelation(ctx, parents, EnnisOfClientLoader,
		func(p *domain.Project) *string { return p.ClientCode },
		func(ctx context.Context, clients []string) ([][]*domain.Enni, []error) {
			return loaders.For(ctx).EnnisOfClients(ctx, clients, f)
		})
}

// ProjectsOfEnnis resolves Enni.projects for sibling doors.
func ProjectsOfEnnis(ctx context.Context, parents []*domain.Enni) ([][]*domain.Project, error) {
	return resolveRelation(ctx, parents, ProjectsOfClientLoader,
		func(e *domain.Enni) *string { return e.ShortName },
		func(ctx context.Context, clients []string) ([][]*domain.Project, []error) {
			return loaders.For(ctx).ProjectsOfClients(ctx, clients)
		})
}

// resolveRelation loads the children of each parent by the parent's key. A
// parent without a key has no children ([], not null); a failed key is
// reported on its own parents only, as graphql.BatchErrorList, with the
// field's location as a one-parent resolver's error has it (gqlgen adds
// each parent's path).
func resolveRelation[P, C any](ctx context.Context, parents []*P, loader Loader, keyOf func(*P) *string,
	load func(context.Context, []string) ([][]*C, []error)) ([][]*C, error) {
	keys := make([]string, 0, len(parents))
	at := make([]int, len(parents))
	for i, p := range parents {
		at[i] = -1
		// A nil parent is a null entity of _entities (graph/entities.go), which
		// gqlgen hands over with its siblings; it has no children to load.
		if p == nil {
			continue
		}
		if k := keyOf(p); k != nil {
			at[i] = len(keys)
			keys = append(keys, *k)
		}
	}
	var lists [][]*C
	var errs []error
	if len(keys) > 0 {
		lctx, stale := recordStale(loneBatch(ctx, loader))
		lists, errs = load(lctx, keys)
		reportPerParent(ctx, stale, at)
	}
	out := make([][]*C, len(parents))
	var failed graphql.BatchErrorList
	var locations []gqlerror.Location
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Position != nil && fc.Field.Position.Line > 0 {
		locations = []gqlerror.Location{{Line: fc.Field.Position.Line, Column: fc.Field.Position.Column}}
	}
	for i, j := range at {
		switch {
		case j < 0:
			out[i] = []*C{}
		case errs != nil && errs[j] != nil:
			if failed == nil {
				failed = make(graphql.BatchErrorList, len(parents))
			}
			failed[i] = &gqlerror.Error{Err: errs[j], Message: errs[j].Error(), Locations: locations}
		default:
			out[i] = lists[j]
		}
	}
	if failed != nil {
		return out, failed
	}
	return out, nil
}

// reportPerParent reports the stale answers a relation's load recorded at
// the field of each parent that had a key (at[i] >= 0). The batch resolver
// runs under one parent's field context; its parent's parent is the list.
func reportPerParent(ctx context.Context, stale *staleNotes, at []int) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Parent.Index == nil {
		stale.reportHere(ctx) // a single parent, not in a list
		return
	}
	parents := make([]int, 0, len(at))
	for i, j := range at {
		if j >= 0 {
			parents = append(parents, i)
		}
	}
	stale.reportEach(ctx, fc.Parent.Parent, fc.Field, parents)
}

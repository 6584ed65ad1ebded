package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/covage/gateway/graph/model"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/plan"
)

// Entities: a federation router asks for objects of this subgraph with
// `_entities(representations:)`, one representation per object, all of one
// request in one call. gqlgen's multi entity resolvers (entity_resolver_multi
// in gqlgen.yml) hand every representation of a type to one resolver, which
// gives all their keys to the request's loaders at once, so that 50 doors
// cost one upstream call, as `{ a: enni(…) b: enni(…) … }` would. A key with
// no object is a null entity, not an error; the results keep the
// representations' order.
//
// When `_entities` is the only field of the operation that reaches a
// loader (always so for a router's fetch), its keys load at once, without
// the batching window (internal/plan/lone.go).

// projectsByCode resolves Project representations.
func projectsByCode(ctx context.Context, reps []*model.ProjectByCodesInput) ([]*domain.Project, error) {
	codes := keys(reps, func(r *model.ProjectByCodesInput) string { return r.Code })
	return entityErrors(loaders.For(ctx).ProjectsByCode(plan.Lone(ctx, plan.ProjectByCodeLoader), codes))
}

// ennisByReference resolves Enni representations.
func ennisByReference(ctx context.Context, reps []*model.EnniByReferencesInput) ([]*domain.Enni, error) {
	refs := keys(reps, func(r *model.EnniByReferencesInput) string { return r.Reference })
	return entityErrors(loaders.For(ctx).EnnisByReference(plan.Lone(ctx, plan.EnniByReferenceLoader), refs))
}

// businessesByCode resolves Business representations.
func businessesByCode(ctx context.Context, reps []*model.BusinessByCodesInput) ([]*domain.Business, error) {
	codes := keys(reps, func(r *model.BusinessByCodesInput) string { return r.Code })
	return entityErrors(loaders.For(ctx).BusinessesByCode(plan.Lone(ctx, plan.BusinessByCodeLoader), codes))
}

// billingSitesByCode resolves BillingSite representations: one GET per
// distinct code, through the request's bounded pool, with no window.
func billingSitesByCode(ctx context.Context, reps []*model.BillingSiteByCodesInput) ([]*domain.BillingSite, error) {
	codes := keys(reps, func(r *model.BillingSiteByCodesInput) string { return r.Code })
	return entityErrors(loaders.For(ctx).BillingSites(ctx, codes))
}

func keys[R any](reps []*R, keyOf func(*R) string) []string {
	out := make([]string, len(reps))
	for i, r := range reps {
		out[i] = keyOf(r)
	}
	return out
}

// entityErrors turns the loaders' per-key errors into gqlgen's per-entity
// errors: each failed entity is null with its own error at
// ["_entities", index], and the others keep their data.
func entityErrors[T any](list []*T, errs []error) ([]*T, error) {
	if errs == nil {
		return list, nil
	}
	return list, graphql.BatchErrorList(errs)
}

package graph

import (
	"context"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/plan"
)

// node resolves a global ID through the same loaders as the typed fields. An
// ID that is malformed or names nothing gives null, not an error.
func node(ctx context.Context, id string) (domain.Node, error) {
	kind, key, ok := domain.ParseID(id)
	if !ok {
		return nil, nil
	}
	l := loaders.For(ctx)
	switch kind {
	case domain.KindProject:
		return orNil(plan.ProjectByCode(ctx, key))
	case domain.KindEnni:
		return orNil(plan.EnniByReference(ctx, key))
	case domain.KindBusiness:
		return orNil(plan.BusinessByCode(ctx, key))
	case domain.KindBillingSite:
		return orNil(l.BillingSite(ctx, key))
	}
	return nil, nil
}

// orNil keeps a typed nil pointer from becoming a non-nil interface.
func orNil[T any](v *T, err error) (domain.Node, error) {
	if v == nil || err != nil {
		return nil, err
	}
	n, _ := any(v).(domain.Node)
	return n, nil
}

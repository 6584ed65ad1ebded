package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// billingSites resolves Query.billingSites. Every site that loaded is
// kept; a code that failed is null, with its error at its own index path
// (["billingSites", 3]), as a list of single lookups would report it.
func billingSites(ctx context.Context, codes []string) ([]*domain.BillingSite, error) {
	sites, errs := loaders.For(ctx).BillingSites(ctx, codes)
	if errs == nil {
		return sites, nil
	}
	fc := graphql.GetFieldContext(ctx)
	var path ast.Path
	var locations []gqlerror.Location
	if fc != nil {
		path = fc.Path()
		if fc.Field.Position != nil && fc.Field.Position.Line > 0 {
			locations = []gqlerror.Location{{Line: fc.Field.Position.Line, Column: fc.Field.Position.Column}}
		}
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		at := append(append(ast.Path(nil), path...), ast.PathIndex(i))
		graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Error(), Path: at, Locations: locations})
	}
	return sites, nil
}

package graph

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/plan"
)

// ListEstimator returns how many items a list field is expected to hold,
// given its arguments, or false when it cannot tell. The cost limit
// multiplies by it before execution, and the response budget projects an
// answer's size with it during execution.
type ListEstimator func(ctx context.Context, args map[string]any) (n int, ok bool)

// ListSizes maps a list field, as "Type.field", to its estimator. A field
// it does not name is assumed to hold COST_LIST_SIZE items. A paginated
// field would map to a function of its first/last arguments.
type ListSizes map[string]ListEstimator

// Estimate returns the expected items of field f (with the given argument
// values), when s knows.
func (s ListSizes) Estimate(ctx context.Context, f *ast.Field, args map[string]any) (int, bool) {
	if len(s) == 0 || f == nil || f.ObjectDefinition == nil {
		return 0, false
	}
	e := s[f.ObjectDefinition.Name+"."+f.Name]
	if e == nil {
		return 0, false
	}
	return e(ctx, args)
}

// EnniFilterFromArg reads an EnniFilter argument value as the validator
// left it, for the cost estimate (internal/plan reads it the same way).
func EnniFilterFromArg(arg map[string]any) domain.EnniFilter { return plan.EnniFilterFromArg(arg) }

// ProjectFilterFromArg reads a ProjectFilter argument value as the
// validator left it.
func ProjectFilterFromArg(arg map[string]any) domain.ProjectFilter {
	return plan.ProjectFilterFromArg(arg)
}

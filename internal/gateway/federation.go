package gateway

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// serviceSDL lets a federation router read the subgraph's SDL
// (`{ _service { sdl } }`) when introspection is off, as it is in
// production: gqlgen answers _service only when its DisableIntrospection
// flag is false, and a router composing the supergraph from the running
// subgraphs needs it. It clears the flag for operations that select
// _service and nothing else changes: __schema and __type stay refused by
// the introspection rule of operationLimits, which reads the operation
// itself, not the flag. The SDL is the public schema plus the federation
// directives, nothing a client could not learn from the documentation.
type serviceSDL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = serviceSDL{}

func (serviceSDL) ExtensionName() string                   { return "FederationServiceSDL" }
func (serviceSDL) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext clears DisableIntrospection when the operation
// selects _service.
func (serviceSDL) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation != nil && selectsService(rc.Operation.SelectionSet, 0) {
		rc.DisableIntrospection = false
	}
	return nil
}

// selectsService reports whether _service is among the root fields of set,
// fragments included. The document is validated, so fragments do not
// cycle; depth bounds the walk anyway.
func selectsService(set ast.SelectionSet, depth int) bool {
	if depth > 16 {
		return false
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "_service" {
				return true
			}
		case *ast.InlineFragment:
			if selectsService(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && selectsService(s.Definition.SelectionSet, depth+1) {
				return true
			}
		}
	}
	return false
}

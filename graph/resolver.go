// Package graph is the GraphQL layer: the schema, thin resolvers that read
// through the per-request loaders, and the generated executor.
package graph

import "github.com/covage/gateway/internal/connection"

//go:generate go run github.com/99designs/gqlgen generate

// Resolver is the dependency-injection root of the resolvers. It holds no
// per-request state: the loaders travel in the request context.
type Resolver struct {
	// Indexes keeps the connections' search indexes, one per cached list
	// version, for the server's lifetime; nil builds one per request.
	Indexes *connection.Indexes
}

// deref reads an optional argument, its zero value when absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

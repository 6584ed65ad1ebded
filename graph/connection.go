package graph

import (
	"context"
	"errors"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/connection"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/plan"
)

// Connections read the very list the plain list fields read, through the
// same per-request loaders (so `enniConnection` and `ennis` with the same
// filter share one upstream call, and the shared cache answers both), then
// search, order and page it in internal/connection. Their arguments are
// checked before anything is loaded, so a refused request costs Covage
// nothing. Relations under nodes and edges.node get the same look-ahead as
// under the plain lists (internal/plan/lookahead.go).

// enniConnection resolves Query.enniConnection.
func enniConnection(ctx context.Context, ix *connection.Indexes, f *domain.EnniFilter, order *domain.EnniOrder, args connection.Args) (*domain.EnniConnection, error) {
	if order != nil {
		args.Order, args.Desc = string(order.Field), order.Direction == domain.OrderDesc
	}
	q, err := connection.Parse(connection.Ennis.Name, args)
	if err != nil {
		return nil, badInput(err)
	}
	l := loaders.For(ctx)
	nested := len(plan.NodeFields(ctx, "Enni", "projects")) > 0
	unfiltered := deref(f) == domain.EnniFilter{}
	if nested && unfiltered {
		l.PrefetchProjects(ctx, domain.ProjectFilter{})
	}
	list, err := l.Ennis(ctx, deref(f))
	if err != nil {
		return nil, err
	}
	p := connection.Run(connection.For(ix, connection.Ennis, list), q)
	if nested && !unfiltered && plan.Distinct(p.Nodes, func(e *domain.Enni) *string { return e.ShortName }) > 0 {
		l.PrefetchProjects(ctx, domain.ProjectFilter{})
	}
	return &domain.EnniConnection{Nodes: p.Nodes, TotalCount: p.Total, PageInfo: pageInfo(p), CursorOf: p.Cursor}, nil
}

// projectConnection resolves Query.projectConnection.
func projectConnection(ctx context.Context, ix *connection.Indexes, f *domain.ProjectFilter, order *domain.ProjectOrder, args connection.Args) (*domain.ProjectConnection, error) {
	if order != nil {
		args.Order, args.Desc = string(order.Field), order.Direction == domain.OrderDesc
	}
	q, err := connection.Parse(connection.Projects.Name, args)
	if err != nil {
		return nil, badInput(err)
	}
	l := loaders.For(ctx)
	nested := plan.EnniFiltersOf(ctx, plan.NodeFields(ctx, "Project", "ennis"))
	unfiltered := deref(f) == domain.ProjectFilter{}
	if unfiltered {
		plan.PrefetchEnnis(ctx, l, nested)
	}
	list, err := l.Projects(ctx, deref(f))
	if err != nil {
		return nil, err
	}
	p := connection.Run(connection.For(ix, connection.Projects, list), q)
	if !unfiltered && len(nested) > 0 && plan.Distinct(p.Nodes, func(p *domain.Project) *string { return p.ClientCode }) > 1 {
		plan.PrefetchEnnis(ctx, l, nested)
	}
	return &domain.ProjectConnection{Nodes: p.Nodes, TotalCount: p.Total, PageInfo: pageInfo(p), CursorOf: p.Cursor}, nil
}

// businessConnection resolves Query.businessConnection.
func businessConnection(ctx context.Context, ix *connection.Indexes, order *domain.BusinessOrder, args connection.Args) (*domain.BusinessConnection, error) {
	if order != nil {
		args.Order, args.Desc = string(order.Field), order.Direction == domain.OrderDesc
	}
	q, err := connection.Parse(connection.Businesses.Name, args)
	if err != nil {
		return nil, badInput(err)
	}
	list, err := loaders.For(ctx).Businesses(ctx)
	if err != nil {
		return nil, err
	}
	p := connection.Run(connection.For(ix, connection.Businesses, list), q)
	return &domain.BusinessConnection{Nodes: p.Nodes, TotalCount: p.Total, PageInfo: pageInfo(p), CursorOf: p.Cursor}, nil
}

func pageInfo[T any](p *connection.Page[T]) *domain.PageInfo {
	info := &domain.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrev}
	if n := len(p.Nodes); n > 0 {
		start, end := p.Cursor(0), p.Cursor(n-1)
		info.StartCursor, info.EndCursor = &start, &end
	}
	return info
}

// badInput presents a connection argument the contract refuses.
func badInput(err error) error {
	var in *connection.InputError
	if !errors.As(err, &in) {
		return err
	}
	return &gqlerror.Error{Message: in.Error(), Extensions: map[string]any{"code": CodeBadUserInput}}
}

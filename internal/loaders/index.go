package loaders

import (
	"context"

	"github.com/covage/gateway/internal/domain"
)

// index groups a list by a key, so that each parent's relation is a map
// lookup rather than a walk over the whole list.
type index[T any] map[string][]*T

// get returns the group for key; an empty, non-nil slice when there is none,
// so the field is [] rather than null.
func (i index[T]) get(key string) []*T {
	if g, ok := i[key]; ok {
		return g
	}
	return []*T{}
}

// groupBy walks the list once; items without a key belong to no group.
func groupBy[T any](list []*T, keyOf func(*T) *string) index[T] {
	idx := make(index[T])
	for _, item := range list {
		if k := keyOf(item); k != nil {
			idx[*k] = append(idx[*k], item)
		}
	}
	return idx
}

func enniShortName(e *domain.Enni) *string        { return e.ShortName }
func projectClientCode(p *domain.Project) *string { return p.ClientCode }

// ennisByShortName returns the door list for f grouped by client, built at
// most once per request and filter.
func (l *Loaders) ennisByShortName(ctx context.Context, f domain.EnniFilter) (index[domain.Enni], error) {
	return remember(ctx, &l.lists, enniListKey(f)+"#short_name", func(ctx context.Context) (index[domain.Enni], error) {
		list, err := l.Ennis(ctx, f)
		if err != nil {
			return nil, err
		}
		return groupBy(list, enniShortName), nil
	})
}

// projectsByClientCode returns the unfiltered project list grouped by
// client, built at most once per request.
func (l *Loaders) projectsByClientCode(ctx context.Context) (index[domain.Project], error) {
	return remember(ctx, &l.lists, projectListKey(domain.ProjectFilter{})+"#code_client", func(ctx context.Context) (index[domain.Project], error) {
		list, err := l.Projects(ctx, domain.ProjectFilter{})
		if err != nil {
			return nil, err
		}
		return groupBy(list, projectClientCode), nil
	})
}

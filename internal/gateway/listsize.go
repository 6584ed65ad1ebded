package gateway

import (
	"context"
	"sync"
	"weak"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// cachedSizes estimates list sizes from what the shared cache holds under
// the caller's credential, or else from what the request has fetched
// already (during execution): the length of a list, and for a relation the
// average number of children per parent. A list neither holds is unknown,
// and the cost limit assumes COST_LIST_SIZE items. Filtered root lists are
// estimated by the unfiltered list, an upper bound.
type cachedSizes struct {
	c *cache.Cache // nil without a shared cache

	mu sync.Mutex
	// averages remembers each relation's average by the identity of the
	// two cached lists it was computed from (cached values never change),
	// so the O(n) count runs once per cache entry, not per request.
	averages map[averageKey]int
}

// averageKey names the two lists an average was computed from by weak
// pointers to their first elements: a strong one would keep each list
// alive as long as its average is remembered, and with the cache off every
// request fetches lists of its own (up to maxAverages of them, megabytes
// each, were held that way). A weak pointer never equals one made for
// another object, even one later allocated at the same address.
type averageKey struct {
	relation         string
	parents          weak.Pointer[domain.Project]
	kids             weak.Pointer[domain.Enni]
	nParents, nChild int
}

// maxAverages bounds the remembered averages; the map is cleared whole
// when full (entries are cheap to recompute).
const maxAverages = 256

// listSizes returns the estimators of the schema's list fields, reading
// the shared cache when up is one.
func listSizes(up any) graph.ListSizes {
	c, _ := up.(*cache.Cache)
	s := &cachedSizes{c: c, averages: map[averageKey]int{}}
	length := func(endpoint, query string) graph.ListEstimator {
		return func(ctx context.Context, _ map[string]any) (int, bool) { return s.length(ctx, endpoint, query) }
	}
	allProjects := covage.ProjectQuery(domain.ProjectFilter{}).Encode()
	allEnnis := covage.EnniQuery(domain.EnniFilter{}).Encode()
	return graph.ListSizes{
		"Query.projects": func(ctx context.Context, args map[string]any) (int, bool) {
			arg, _ := args["filter"].(map[string]any)
			f := graph.ProjectFilterFromArg(arg)
			return s.filtered(ctx, covage.EndpointProject, allProjects, covage.ProjectQuery(f).Encode(), f.Code != nil)
		},
		"Query.ennis": func(ctx context.Context, args map[string]any) (int, bool) {
			arg, _ := args["filter"].(map[string]any)
			f := graph.EnniFilterFromArg(arg)
			return s.filtered(ctx, covage.EndpointEnni, allEnnis, covage.EnniQuery(f).Encode(), f.Reference != nil)
		},
		"Query.businesses":          length(covage.EndpointBusiness, ""),
		"Query.terminateReasons":    length(covage.EndpointTerminateReason, ""),
		"Query.changeReasons":       length(covage.EndpointChangeReason, ""),
		"Query.siteConnectionTypes": length(covage.EndpointSiteConnection, ""),
		"Project.ennis": func(ctx context.Context, _ map[string]any) (int, bool) {
			return s.average(ctx, "Project.ennis", func(ps []*domain.Project, es []*domain.Enni) int {
				return averageChildren(ps, es, func(p *domain.Project) *string { return p.ClientCode }, func(e *domain.Enni) *string { return e.ShortName })
			})
		},
		"Enni.projects": func(ctx context.Context, _ map[string]any) (int, bool) {
			return s.average(ctx, "Enni.projects", func(ps []*domain.Project, es []*domain.Enni) int {
				return averageChildren(es, ps, func(e *domain.Enni) *string { return e.ShortName }, func(p *domain.Project) *string { return p.ClientCode })
			})
		},
	}
}

// peek returns the list from endpoint with query, from the shared cache or
// the request's loaders.
func (s *cachedSizes) peek(ctx context.Context, endpoint, query string) (any, bool) {
	if s.c != nil {
		if v, ok := s.c.Peek(ctx, endpoint, query); ok {
			return v, true
		}
	}
	if l, ok := loaders.From(ctx); ok {
		return l.Peek(endpoint, query)
	}
	return nil, false
}

// length is the length of the known list, whatever its element type.
func (s *cachedSizes) length(ctx context.Context, endpoint, query string) (int, bool) {
	v, ok := s.peek(ctx, endpoint, query)
	if !ok {
		return 0, false
	}
	switch l := v.(type) {
	case []*domain.Project:
		return len(l), true
	case []*domain.Enni:
		return len(l), true
	case []*domain.Business:
		return len(l), true
	case []*domain.TerminateReason:
		return len(l), true
	case []*domain.ChangeReason:
		return len(l), true
	case []*domain.SiteConnectionType:
		return len(l), true
	}
	return 0, false
}

// filtered estimates a root list with a filter: the filtered list itself
// when it is known, else at most one item when the filter names a unique
// key, else the unfiltered list, an upper bound.
func (s *cachedSizes) filtered(ctx context.Context, endpoint, all, query string, unique bool) (int, bool) {
	if query != all {
		if n, ok := s.length(ctx, endpoint, query); ok {
			return n, true
		}
		if unique {
			return 1, true
		}
	}
	return s.length(ctx, endpoint, all)
}

// average is a relation's average children per parent, computed by count
// from the cached unfiltered project and door lists, when both are held.
func (s *cachedSizes) average(ctx context.Context, relation string, count func([]*domain.Project, []*domain.Enni) int) (int, bool) {
	pv, ok1 := s.peek(ctx, covage.EndpointProject, covage.ProjectQuery(domain.ProjectFilter{}).Encode())
	ev, ok2 := s.peek(ctx, covage.EndpointEnni, covage.EnniQuery(domain.EnniFilter{}).Encode())
	ps, ok3 := pv.([]*domain.Project)
	es, ok4 := ev.([]*domain.Enni)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false
	}
	key := averageKey{relation: relation, nParents: len(ps), nChild: len(es)}
	if len(ps) > 0 {
		key.parents = weak.Make(ps[0])
	}
	if len(es) > 0 {
		key.kids = weak.Make(es[0])
	}
	s.mu.Lock()
	n, hit := s.averages[key]
	s.mu.Unlock()
	if hit {
		return n, true
	}
	n = count(ps, es)
	s.mu.Lock()
	if len(s.averages) >= maxAverages {
		clear(s.averages)
	}
	s.averages[key] = n
	s.mu.Unlock()
	return n, true
}

// averageChildren is the average, rounded up, of how many children share
// each parent's key: the size of a relation's list per parent.
func averageChildren[P, C any](parents []*P, children []*C, parentKey func(*P) *string, childKey func(*C) *string) int {
	if len(parents) == 0 {
		return 0
	}
	per := make(map[string]int)
	for _, c := range children {
		if k := childKey(c); k != nil {
			per[*k]++
		}
	}
	total := 0
	for _, p := range parents {
		if k := parentKey(p); k != nil {
			total += per[*k]
		}
	}
	return (total + len(parents) - 1) / len(parents)
}

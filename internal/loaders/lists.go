package loaders

import (
	"context"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// List keys name an upstream list call: the endpoint and its canonical query.
const (
	keyBusinesses          = "business_code"
	keyTerminateReasons    = "terminate_reason"
	keyChangeReasons       = "change_reason"
	keySiteConnectionTypes = "site_connection"
)

// Projects returns the project list for f, fetched at most once per request.
func (l *Loaders) Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error) {
	return remember(ctx, &l.lists, projectListKey(f), func(ctx context.Context) ([]*domain.Project, error) {
		return l.up.Projects(ctx, f)
	})
}

// Ennis returns the collection door list for f, fetched at most once per
// request.
func (l *Loaders) Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error) {
	return remember(ctx, &l.lists, enniListKey(f), func(ctx context.Context) ([]*domain.Enni, error) {
		return l.up.Ennis(ctx, f)
	})
}

// Businesses returns the business list, fetched at most once per request.
func (l *Loaders) Businesses(ctx context.Context) ([]*domain.Business, error) {
	return remember(ctx, &l.lists, keyBusinesses, func(ctx context.Context) ([]*domain.Business, error) {
		return l.up.Businesses(ctx)
	})
}

// TerminateReasons returns the termination reasons, in upstream order.
func (l *Loaders) TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error) {
	return remember(ctx, &l.lists, keyTerminateReasons, func(ctx context.Context) ([]*domain.TerminateReason, error) {
		return l.up.TerminateReasons(ctx)
	})
}

// ChangeReasons returns the change reasons, in upstream order.
func (l *Loaders) ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error) {
	return remember(ctx, &l.lists, keyChangeReasons, func(ctx context.Context) ([]*domain.ChangeReason, error) {
		return l.up.ChangeReasons(ctx)
	})
}

// SiteConnectionTypes returns the site connection types, in upstream order.
func (l *Loaders) SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error) {
	return remember(ctx, &l.lists, keySiteConnectionTypes, func(ctx context.Context) ([]*domain.SiteConnectionType, error) {
		return l.up.SiteConnectionTypes(ctx)
	})
}

// PrefetchProjects starts the project list call for f without waiting for
// it, so that it runs alongside the call that will need it (look-ahead).
func (l *Loaders) PrefetchProjects(ctx context.Context, f domain.ProjectFilter) {
	prefetch(ctx, &l.lists, projectListKey(f), func(ctx context.Context) ([]*domain.Project, error) {
		return l.up.Projects(ctx, f)
	})
}

// PrefetchEnnis starts the door list call for f without waiting for it.
func (l *Loaders) PrefetchEnnis(ctx context.Context, f domain.EnniFilter) {
	prefetch(ctx, &l.lists, enniListKey(f), func(ctx context.Context) ([]*domain.Enni, error) {
		return l.up.Ennis(ctx, f)
	})
}

// The unfiltered lists' keys. A relation asks for its list once per
// parent (every project of `{ projects { ennis { … } } }`), and building
// the key from url.Values each time cost a map and two strings per parent:
// 1 MB of garbage per request at 12,500 projects.
var (
	allProjectsKey = "project?" + covage.ProjectQuery(domain.ProjectFilter{}).Encode()
	allEnnisKey    = "enni?" + covage.EnniQuery(domain.EnniFilter{}).Encode()
)

func projectListKey(f domain.ProjectFilter) string {
	if f == (domain.ProjectFilter{}) {
		return allProjectsKey
	}
	return "project?" + covage.ProjectQuery(f).Encode()
}

func enniListKey(f domain.EnniFilter) string {
	if f == (domain.EnniFilter{}) {
		return allEnnisKey
	}
	return "enni?" + covage.EnniQuery(f).Encode()
}

// Peek returns the list this request has already fetched from endpoint
// with the canonical query (as the shared cache names it), without waiting
// or calling upstream: it is for estimates, such as how large an answer
// will grow.
func (l *Loaders) Peek(endpoint, query string) (any, bool) {
	key := endpoint
	if query != "" || endpoint == covage.EndpointProject || endpoint == covage.EndpointEnni {
		key += "?" + query
	}
	return l.lists.peek(key)
}

package gateway

import (
	"context"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// TestListSizesFromTheSharedCache checks the estimates the cost limit
// multiplies by: unknown until the shared cache holds a list, then its
// length, the average children per parent for relations, the exact
// filtered list when cached, one item for a unique key, and nothing known
// under another credential.
func TestListSizesFromTheSharedCache(t *testing.T) {
	up := httptest.NewServer(demo.New(demo.Generate(500, 2000, 50)))
	t.Cleanup(up.Close)
	client, err := covage.New(covage.Config{BaseURL: up.URL})
	require.NoError(t, err)
	c, err := cache.New(client, cache.Config{DefaultTTL: time.Hour})
	require.NoError(t, err)
	sizes := listSizes(c)
	ctx := context.Background()
	estimate := func(ctx context.Context, field string, args map[string]any) (int, bool) {
		return sizes[field](ctx, args)
	}
	for _, f := range []string{"Query.projects", "Query.ennis", "Project.ennis", "Enni.projects", "Query.terminateReasons"} {
		_, ok := estimate(ctx, f, nil)
		require.False(t, ok, "%s is unknown before anything is cached", f)
	}

	_, err = c.Projects(ctx, domain.ProjectFilter{})
	require.NoError(t, err)
	_, err = c.Ennis(ctx, domain.EnniFilter{})
	require.NoError(t, err)
	_, err = c.TerminateReasons(ctx)
	require.NoError(t, err)
	for f, want := range map[string]int{"Query.projects": 500, "Query.ennis": 2000, "Project.ennis": 40, "Enni.projects": 10, "Query.terminateReasons": 5} {
		n, ok := estimate(ctx, f, nil)
		require.True(t, ok, f)
		require.Equal(t, want, n, f)
	}

	byClient := map[string]any{"filter": map[string]any{"shortName": "C0001"}}
	n, _ := estimate(ctx, "Query.ennis", byClient)
	require.Equal(t, 2000, n, "an uncached filtered list counts as the whole list")
	_, err = c.Ennis(ctx, domain.EnniFilter{ShortName: ptrTo("C0001")})
	require.NoError(t, err)
	n, _ = estimate(ctx, "Query.ennis", byClient)
	require.Equal(t, 40, n, "a cached filtered list counts as itself")
	n, _ = estimate(ctx, "Query.ennis", map[string]any{"filter": map[string]any{"reference": "CN000001"}})
	require.Equal(t, 1, n, "a reference names one door")

	other := covage.WithBearer(ctx, covage.Secret("another caller"))
	_, ok := estimate(other, "Query.projects", nil)
	require.False(t, ok, "another credential's lists are not known")
}

func ptrTo[T any](v T) *T { return &v }

// TestRememberedAveragesKeepNoList checks that the averages the cost
// estimate remembers do not keep the lists they were computed from alive.
// With the cache off every request fetches lists of its own; a remembered
// average that held them kept hundreds of requests' lists in memory.
func TestRememberedAveragesKeepNoList(t *testing.T) {
	up := httptest.NewServer(demo.New(demo.Generate(50, 200, 5)))
	t.Cleanup(up.Close)
	client, err := covage.New(covage.Config{BaseURL: up.URL})
	require.NoError(t, err)
	sizes := listSizes(nil) // no shared cache: lists come from the request

	// request estimates from one request's lists and returns weak
	// pointers to them, so that the test holds nothing that keeps them.
	request := func() (weak.Pointer[domain.Project], weak.Pointer[domain.Enni]) {
		l := loaders.New(client, loaders.Config{})
		ctx := loaders.WithLoaders(context.Background(), l)
		ps, err := l.Projects(ctx, domain.ProjectFilter{})
		require.NoError(t, err)
		es, err := l.Ennis(ctx, domain.EnniFilter{})
		require.NoError(t, err)
		n, ok := sizes["Project.ennis"](ctx, nil)
		require.True(t, ok, "the request's own lists give the average")
		require.Equal(t, 40, n, "200 doors over 5 clients")
		return weak.Make(ps[0]), weak.Make(es[0])
	}
	p, e := request()
	runtime.GC()
	runtime.GC()
	require.Nil(t, p.Value(), "a remembered average keeps the request's projects alive")
	require.Nil(t, e.Value(), "a remembered average keeps the request's doors alive")
	runtime.KeepAlive(sizes) // the estimators, and what they remember, live on
}

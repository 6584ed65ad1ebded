package gateway

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
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

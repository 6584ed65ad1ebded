package loaders

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/domain"
)

// TestUnfilteredListKeys checks that the unfiltered lists keep the key
// the query string gives them, which the shared cache and Peek also use,
// and that asking for it allocates nothing: a relation asks once per
// parent object.
func TestUnfilteredListKeys(t *testing.T) {
	require.Equal(t, "project?"+covage.ProjectQuery(domain.ProjectFilter{}).Encode(), projectListKey(domain.ProjectFilter{}))
	require.Equal(t, "enni?"+covage.EnniQuery(domain.EnniFilter{}).Encode(), enniListKey(domain.EnniFilter{}))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = enniListKey(domain.EnniFilter{}) }))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = projectListKey(domain.ProjectFilter{}) }))

	active, offer := true, domain.Offer("BPEA")
	require.Equal(t, "enni?active=true&offer=BPEA", enniListKey(domain.EnniFilter{Active: &active, Offer: &offer}),
		"a filtered list keeps its own key")
	require.Equal(t, "project?active=true", projectListKey(domain.ProjectFilter{Active: &active}))
}

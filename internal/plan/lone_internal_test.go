package plan

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReachedByInvertsReach checks that the per-loader field lists the
// lone-key count reads hold exactly the reach table's fields, so a field
// declared once reaches the count.
func TestReachedByInvertsReach(t *testing.T) {
	n := 0
	for field, loaders := range reach {
		for _, l := range loaders {
			require.Contains(t, reachedBy[l], field)
			n++
		}
	}
	for _, fields := range reachedBy {
		n -= len(fields)
	}
	require.Zero(t, n)
}

package connection

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// TestIndexesKeyOnTheListValue checks that the store hands every caller
// with the same list value (what the shared cache returns while fresh) the
// same index from the second sighting on, and a new index for a new value
// (a refreshed entry), even one with equal contents; that a list seen once
// is not held; and that it stays within its record budget.
func TestIndexesKeyOnTheListValue(t *testing.T) {
	s := NewIndexes(100)
	v1 := generated(40)
	first := For(s, Ennis, v1)
	require.Equal(t, 0, s.lru.Len(), "a list seen once is not kept")
	ix := For(s, Ennis, v1)
	require.NotSame(t, first, ix)
	require.Same(t, ix, For(s, Ennis, v1))
	ix.texts() // built once, kept with the index
	require.Same(t, &ix.texts()[0], &For(s, Ennis, v1).texts()[0])

	v2 := slices.Clone(v1)
	seenTwice := func(list []*domain.Enni) *Index[domain.Enni] {
		For(s, Ennis, list)
		return For(s, Ennis, list)
	}
	require.NotSame(t, ix, seenTwice(v2), "a new list value is a new version")
	require.NotSame(t, ix, seenTwice(v1[:20]), "so is a shorter one")

	// 40 + 40 + 20 records are kept; one more list of 40 evicts the
	// least recently used, v1 (v2 and the short one were used after it).
	seenTwice(generated(40))
	require.LessOrEqual(t, s.records, 100)
	require.Equal(t, 3, s.lru.Len())
	require.NotSame(t, ix, seenTwice(v1), "v1 was evicted")

	// A nil store and an empty list build a fresh index each time.
	require.NotSame(t, For(nil, Ennis, v1), For(nil, Ennis, v1))
	require.Equal(t, 0, For(s, Ennis, v1[:0]).Len())
}

// TestNilRecordsAreLeftOut checks that a nil record in a list (which no
// field could be read from) is skipped rather than crashing the index, and
// that the shared list is not modified.
func TestNilRecordsAreLeftOut(t *testing.T) {
	list := generated(3)
	withNil := []*domain.Enni{list[0], nil, list[1], list[2]}
	s := "porte"
	p := run(t, NewIndex(Ennis, withNil), Args{Search: &s, Order: "LABEL"})
	require.Equal(t, refs(list), refs(p.Nodes))
	require.Nil(t, withNil[1])
}

package graph_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/connection"
)

// TestConnectionOrdersMatchTheSchema checks the order tables of
// internal/connection against the schema's order enums, both ways, so that
// a field added to an enum cannot reach a connection that does not know
// how to sort by it.
func TestConnectionOrdersMatchTheSchema(t *testing.T) {
	s := projectSchema(t)
	for enum, orders := range map[string][]string{
		"EnniOrderField":     slices.Sorted(maps.Keys(connection.Ennis.Orders)),
		"ProjectOrderField":  slices.Sorted(maps.Keys(connection.Projects.Orders)),
		"BusinessOrderField": slices.Sorted(maps.Keys(connection.Businesses.Orders)),
	} {
		def := s.Types[enum]
		require.NotNil(t, def, enum)
		var values []string
		for _, v := range def.EnumValues {
			values = append(values, v.Name)
		}
		slices.Sort(values)
		require.Equal(t, values, orders, enum)
	}
}

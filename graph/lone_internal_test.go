package graph

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/graph/generated"
)

// TestLoneFieldsExist checks the hand-kept lists of fields that reach each
// keyed loader (lone.go) against the executable schema, federation fields
// included: a renamed or removed field would otherwise leave a name that
// never matches, and the count would silently miss a field.
func TestLoneFieldsExist(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema()
	for _, list := range [][]string{projectByCodeFields, enniByReferenceFields, businessByCodeFields, ennisOfClientFields, projectsOfClientFields} {
		for _, name := range list {
			typ, field, ok := strings.Cut(name, ".")
			require.True(t, ok, name)
			def := schema.Types[typ]
			require.NotNil(t, def, "%s: no type %s", name, typ)
			require.NotNil(t, def.Fields.ForName(field), "%s: no such field", name)
		}
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
)

// TestConnectionCostIsItsPage checks that the cost model counts a
// connection's edges and nodes as its page (first or last, 20 by default)
// rather than ListSize, so that a deep but paged query is cheap and an
// unpaged one stays bounded; plain lists keep ListSize.
func TestConnectionCostIsItsPage(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
	cost := func(q string, vars map[string]any) int {
		doc, err := gqlparser.LoadQueryWithRules(schema, q, nil)
		require.Nil(t, err)
		return newCoster(context.Background(), DefaultLimits().withDefaults(), nil, vars).cost(doc.Operations[0].SelectionSet, 0)
	}
	cases := []struct {
		query string
		vars  map[string]any
		want  int
	}{
		// field 1 + nodes (1 + page × reference 1)
		{`{ enniConnection(first: 2) { nodes { reference } } }`, nil, 4},
		{`{ enniConnection(last: 3) { nodes { reference } } }`, nil, 5},
		{`{ enniConnection { nodes { reference } } }`, nil, 22}, // the default page, 20
		{`{ enniConnection(first: 0) { totalCount } }`, nil, 2},
		{`query($n: Int) { projectConnection(first: $n) { nodes { code } } }`, map[string]any{"n": json.Number("7")}, 9},
		{`query($n: Int) { businessConnection(last: $n) { nodes { code } } }`, map[string]any{"n": 4.0}, 6},
		{`query($n: Int) { businessConnection(first: $n) { nodes { code } } }`, map[string]any{"n": nil}, 22},
		{`{ enniConnection(first: 1000) { nodes { reference } } }`, nil, 102}, // refused by the field; costed as the largest page
		// edges (1 + 2 × (cursor 1 + node (1 + reference 1 + projects (1 + 5 × code 1))))
		{`{ enniConnection(first: 2) { edges { cursor node { reference projects { code } } } } }`, nil, 20},
		// A fragment costs what each connection's page makes it.
		{`{ a: enniConnection(first: 2) { ...F } b: enniConnection(first: 10) { ...F } } fragment F on EnniConnection { nodes { reference } }`, nil, 16},
		// Plain lists keep ListSize (5).
		{`{ ennis { reference } }`, nil, 6},
		{`{ enniConnection(first: 1) { nodes { projects { ennis { reference } } } } }`, nil, 1 + 1 + 1*(1+5*(1+5*1))},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			require.Equal(t, tc.want, cost(tc.query, tc.vars))
		})
	}
}

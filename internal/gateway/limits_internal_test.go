package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/covage/gateway/graph"
)

// limitsSchema is a fragment shaped like ours, with Federation's _entities
// root field (added by gqlgen's federation plugin), so the exception to
// MAX_LIST_ARGUMENT is tested before the gateway serves it.
const limitsSchema = `
scalar _Any
union _Entity = Site
type Site { code: String! parts: [Site!] }
type Query {
  billingSites(codes: [String!]!): [Site]
  sites(filter: SiteFilter): [Site!]
  other(representations: [_Any!]!): [Site]
  _entities(representations: [_Any!]!): [_Entity]!
}
input SiteFilter { codes: [String!] }
`

// operationCheck validates query against limitsSchema with vars, and runs
// the cost and input limits on it as the gateway does after validation.
func operationCheck(t *testing.T, l Limits, sizes graph.ListSizes, query string, vars map[string]any) (string, string) {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: limitsSchema})
	doc, errs := gqlparser.LoadQuery(schema, query)
	require.Empty(t, errs)
	coerced, err := validator.VariableValues(schema, doc.Operations[0], vars)
	require.NoError(t, err)
	o := operationLimits{l: l.withDefaults(), sizes: sizes}
	gerr := o.MutateOperationContext(context.Background(), &graphql.OperationContext{Operation: doc.Operations[0], Variables: coerced})
	if gerr == nil {
		return "", ""
	}
	return gerr.Extensions["code"].(string), gerr.Message
}

func anys(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"__typename": "Site", "code": fmt.Sprint(i)}
	}
	return out
}

func codeList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%q", fmt.Sprint("C", i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestListArgumentLimits checks MAX_LIST_ARGUMENT on literal, variable and
// nested lists and on the operation's lists in all, and
// MAX_ENTITY_REPRESENTATIONS on _entities alone.
func TestListArgumentLimits(t *testing.T) {
	entities := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { code } } }`
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		code  string
	}{
		{"100 literal codes", `{ billingSites(codes: ` + codeList(100) + `) { code } }`, nil, ""},
		{"101 literal codes", `{ billingSites(codes: ` + codeList(101) + `) { code } }`, nil, CodeInputLimit},
		{"101 codes in a variable", `query($c: [String!]!) { billingSites(codes: $c) { code } }`, map[string]any{"c": anysOf(101)}, CodeInputLimit},
		{"101 codes nested in an input object", `query($c: [String!]) { sites(filter: {codes: $c}) { code } }`, map[string]any{"c": anysOf(101)}, CodeInputLimit},
		{"1,000 representations", entities, map[string]any{"r": anys(1000)}, ""},
		{"1,001 representations", entities, map[string]any{"r": anys(1001)}, CodeInputLimit},
		{"representations on another field keep the list limit", `query($r: [_Any!]!) { other(representations: $r) { code } }`, map[string]any{"r": anys(101)}, CodeInputLimit},
		// Aliases must not multiply the cap: each code can be a GET.
		{"two aliases of 50 codes", `{ a: billingSites(codes: ` + codeList(50) + `) { code } b: billingSites(codes: ` + codeList(50) + `) { code } }`, nil, ""},
		{"thirty aliases of 100 codes", `query($c: [String!]!) { ` + aliases(30, `billingSites(codes: $c) { code }`) + ` }`, map[string]any{"c": anysOf(100)}, CodeInputLimit},
		{"two aliases of 51 codes", `{ a: billingSites(codes: ` + codeList(51) + `) { code } b: billingSites(codes: ` + codeList(51) + `) { code } }`, nil, CodeInputLimit},
		{"the representations do not count in the other lists' total", `query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { code } } billingSites(codes: ` + codeList(100) + `) { code } }`, map[string]any{"r": anys(1000)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := operationCheck(t, Limits{}, nil, tc.query, tc.vars)
			require.Equal(t, tc.code, code, msg)
		})
	}
}

// aliases returns n aliased copies of field.
func aliases(n int, field string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("a%d: %s", i, field)
	}
	return strings.Join(parts, " ")
}

func anysOf(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprint("C", i)
	}
	return out
}

// TestListArgumentsAreCharged checks that each element of a list argument
// costs 1 whatever is selected, __typename included.
func TestListArgumentsAreCharged(t *testing.T) {
	q := `query($c: [String!]!) { billingSites(codes: $c) { __typename } }`
	code, _ := operationCheck(t, Limits{MaxCost: 100}, nil, q, map[string]any{"c": anysOf(100)})
	require.Equal(t, CodeCostLimit, code, "100 codes cost more than 100")
	code, msg := operationCheck(t, Limits{MaxCost: 101}, nil, q, map[string]any{"c": anysOf(100)})
	require.Empty(t, code, msg)
}

// TestCostUsesKnownSizes checks that a list whose size is known is
// multiplied by it, and others by ListSize.
func TestCostUsesKnownSizes(t *testing.T) {
	q := `{ sites { parts { code } } }`
	// Unknown: 1 + 5 × (1 + 5 × 1) = 31.
	code, _ := operationCheck(t, Limits{MaxCost: 31}, nil, q, nil)
	require.Empty(t, code)
	code, _ = operationCheck(t, Limits{MaxCost: 30}, nil, q, nil)
	require.Equal(t, CodeCostLimit, code)
	sizes := graph.ListSizes{
		"Query.sites": func(context.Context, map[string]any) (int, bool) { return 100, true },
		"Site.parts":  func(context.Context, map[string]any) (int, bool) { return 2, true },
	}
	// Known: 1 + 100 × (1 + 2 × 1) = 301.
	code, _ = operationCheck(t, Limits{MaxCost: 301}, sizes, q, nil)
	require.Empty(t, code)
	code, _ = operationCheck(t, Limits{MaxCost: 300}, sizes, q, nil)
	require.Equal(t, CodeCostLimit, code)
}

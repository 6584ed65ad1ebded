package gateway_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// TestHostileInputs sends each hostile request, and checks that it gets a
// clear coded error, that it costs Covage nothing, and that the gateway
// serves the next request.
func TestHostileInputs(t *testing.T) {
	fiveMiB := `{"query":"{ __typename }","x":"` + strings.Repeat("a", 5<<20) + `"}`
	tests := []struct {
		name   string
		req    func(t testing.TB) request
		status int
		code   string
		msg    string
	}{
		{"depth 30", func(t testing.TB) request { return post(t, nested(30), nil) }, 200, gateway.CodeDepthLimit, "depth limit of 10"},
		{"depth 30, graphql-response+json", func(t testing.TB) request {
			r := post(t, nested(30), nil)
			r.header = gqlRespHeader
			return r
		}, 400, gateway.CodeDepthLimit, "depth limit of 10"},
		{"2,000 aliases", func(t testing.TB) request {
			return post(t, "{ projects { "+repeat(2000, "a%d: code ")+"} }", nil)
		}, 200, gateway.CodeAliasLimit, "alias limit of 30"},
		{"5,000 root fields", func(t testing.TB) request {
			return post(t, "{ "+strings.Repeat("__typename ", 5000)+"}", nil)
		}, 200, gateway.CodeRootFieldLimit, "root field limit of 20"},
		{"20,000 tokens", func(t testing.TB) request {
			return post(t, "{ projects { "+strings.Repeat("code ", 20000)+"} }", nil)
		}, 200, gateway.CodeTokenLimit, "token limit"},
		{"lists multiplying cost", func(t testing.TB) request {
			return post(t, "{ projects { ennis { projects { ennis { projects { ennis { projects { ennis { projects { code } } } } } } } } } }", nil)
		}, 200, gateway.CodeCostLimit, "cost limit of 1000000"},
		{"5,000 billing-site codes", func(t testing.TB) request {
			codes := make([]string, 5000)
			for i := range codes {
				codes[i] = "C" + strconv.Itoa(i)
			}
			return post(t, "query($c: [String!]!) { billingSites(codes: $c) { code description } }", map[string]any{"c": codes})
		}, 200, gateway.CodeInputLimit, "billingSites(codes:) has 5000 elements, more than the limit of 100"},
		{"101 billing-site codes selecting only __typename", func(t testing.TB) request {
			codes := make([]string, 101)
			for i := range codes {
				codes[i] = "C" + strconv.Itoa(i)
			}
			return post(t, "query($c: [String!]!) { billingSites(codes: $c) { __typename } }", map[string]any{"c": codes})
		}, 200, gateway.CodeInputLimit, "has 101 elements, more than the limit of 100"},
		{"101 literal billing-site codes", func(t testing.TB) request {
			return post(t, `{ billingSites(codes: [`+strings.TrimSuffix(repeat(101, `"C%d",`), ",")+`]) { code } }`, nil)
		}, 200, gateway.CodeInputLimit, "has 101 elements"},
		{"5 MiB body", func(t testing.TB) request {
			return request{header: jsonHeader, body: strings.NewReader(fiveMiB)}
		}, 413, gateway.CodePayloadTooLarge, "body limit of 1048576 bytes"},
		{"5 MiB body without Content-Length", func(t testing.TB) request {
			return request{header: jsonHeader, body: strings.NewReader(fiveMiB), chunked: true}
		}, 413, gateway.CodePayloadTooLarge, "body limit of 1048576 bytes"},
		{"malformed JSON", func(t testing.TB) request {
			return request{header: jsonHeader, body: strings.NewReader(`{"query": "{ __typename }"`)}
		}, 400, gateway.CodeBadRequest, "not a JSON object"},
		{"JSON array", func(t testing.TB) request {
			return request{header: jsonHeader, body: strings.NewReader(`[{"query": "{ __typename }"}]`)}
		}, 400, gateway.CodeBadRequest, "not a JSON object"},
		{"no query", func(t testing.TB) request {
			return request{header: jsonHeader, body: strings.NewReader(`{"variables": {}}`)}
		}, 400, gateway.CodeBadRequest, "no query"},
		{"unparsable query, graphql-response+json", func(t testing.TB) request {
			return request{header: gqlRespHeader, body: strings.NewReader(`{"query": "{ projects { "}`)}
		}, 400, "GRAPHQL_PARSE_FAILED", "Expected Name"},
		{"fragment cycle", func(t testing.TB) request {
			return post(t, "{ projects { ...A } } fragment A on Project { ennis { ...B } } fragment B on Enni { projects { ...A } }", nil)
		}, 200, "GRAPHQL_VALIDATION_FAILED", "Cannot spread fragment"},
		{"1 MB string argument", func(t testing.TB) request {
			return post(t, `{ project(code: "`+strings.Repeat("x", 1_000_000)+`") { code } }`, nil)
		}, 200, gateway.CodeInputLimit, "string limit of 1024 bytes"},
		{"1 MB string variable", func(t testing.TB) request {
			return post(t, `query($c: String!) { project(code: $c) { code } }`, map[string]any{"c": strings.Repeat("x", 1_000_000)})
		}, 200, gateway.CodeInputLimit, "string limit of 1024 bytes"},
		{"GET mutation", func(t testing.TB) request { return get("mutation { __typename }", preflight) }, 405, gateway.CodeMethodNotAllowed, "only queries run over GET"},
		{"GET mutation without preflight header", func(t testing.TB) request { return get("mutation { __typename }", nil) }, 400, gateway.CodeCSRF, "cross-site request forgery"},
		{"text/plain POST", func(t testing.TB) request {
			return request{header: map[string]string{"Content-Type": "text/plain"}, body: strings.NewReader(`{"query":"{ terminateReasons { code } }"}`)}
		}, 400, gateway.CodeCSRF, "cross-site request forgery"},
		{"text/plain POST with preflight header", func(t testing.TB) request {
			return request{header: map[string]string{"Content-Type": "text/plain", "Apollo-Require-Preflight": "1"}, body: strings.NewReader(`{"query":"{ terminateReasons { code } }"}`)}
		}, 415, gateway.CodeUnsupportedMedia, "application/json"},
		{"variables of the wrong type", func(t testing.TB) request {
			return post(t, `query($c: String!) { project(code: $c) { code } }`, map[string]any{"c": map[string]any{"x": 1}})
		}, 200, "GRAPHQL_VALIDATION_FAILED", "cannot use map as String"},
		{"PUT", func(t testing.TB) request {
			return request{method: http.MethodPut, header: jsonHeader, body: strings.NewReader(`{"query":"{ __typename }"}`)}
		}, 405, gateway.CodeMethodNotAllowed, "GET and POST"},
		{"Accept text/html", func(t testing.TB) request {
			return request{header: map[string]string{"Content-Type": "application/json", "Accept": "text/html"}, body: strings.NewReader(`{"query":"{ __typename }"}`)}
		}, 406, gateway.CodeNotAcceptable, "Accept"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second time proves that no cache (gqlgen's query
			// cache lets known queries skip the shape limits) remembered a
			// refused query as a good one.
			for range 2 {
				e.upstream()
				a := e.send(t, tt.req(t))
				require.Equal(t, tt.status, a.status, "%.500s", a.body)
				require.Len(t, a.errors, 1, "%.500s", a.body)
				require.Equal(t, tt.code, a.errors[0].Extensions["code"], "%.500s", a.body)
				require.Contains(t, a.errors[0].Message, tt.msg)
				require.Less(t, len(a.body), 4096, "the error must not echo the request")
				require.Empty(t, e.upstream(), "a refused request must cost Covage nothing")

				e.mustQuery(t, "{ terminateReasons { code } }", nil)
				e.upstream()
			}
		})
	}
}

// TestLimitsAtTheirValue checks each limit lets its own value through: the
// limits are maxima, not off-by-one.
func TestLimitsAtTheirValue(t *testing.T) {
	// The cost limit is raised: ten levels of lists are over it.
	e := newEnv(t, withSecurity(gateway.Security{Limits: gateway.Limits{MaxCost: 1 << 30}}))
	for name, q := range map[string]string{
		// An unknown project keeps the answer small; the query is as deep.
		"depth 10":                     strings.Replace(nested(10), "{ projects {", `{ project(code: "NONE") {`, 1),
		"30 aliases":                   "{ projects { " + repeat(30, "a%d: code ") + "} }",
		"20 root fields":               "{ " + strings.Repeat("__typename ", 20) + "}",
		"cost of the usual order form": `{ projects(filter: { active: true }) { code clientCode ennis(filter: { active: true }) { reference label offer } } }`,
		"1,024-byte string":            `{ project(code: "` + strings.Repeat("x", 1024) + `") { code } }`,
		"100 billing-site codes":       `{ billingSites(codes: [` + strings.TrimSuffix(repeat(100, `"C%d",`), ",") + `]) { code } }`,
	} {
		t.Run(name, func(t *testing.T) { e.mustQuery(t, q, nil) })
	}
}

// TestIntrospection checks that the Playground's introspection query
// (graphql-js getIntrospectionQuery, deeper than the depth limit) works in
// development, and that production refuses it and gives no suggestions.
func TestIntrospection(t *testing.T) {
	q, err := os.ReadFile("testdata/introspection.graphql")
	require.NoError(t, err)
	const typo = "{ projcts { code } }"

	dev := newEnv(t)
	data := dev.mustQuery(t, string(q), nil)
	require.Contains(t, string(data), `"name":"Project"`)
	r := dev.query(t, typo, nil)
	require.Contains(t, r.Errors[0].Message, "Did you mean")

	prod := newEnv(t, withSecurity(gateway.Security{DisableIntrospection: true, DisableSuggestions: true, DisablePlayground: true}))
	r = prod.query(t, string(q), nil)
	require.NotEmpty(t, r.Errors, r.Body)
	require.Equal(t, gateway.CodeIntrospectionDisabled, r.Errors[0].Extensions["code"])
	require.Contains(t, r.Errors[0].Message, "introspection is disabled")
	require.NotContains(t, r.Body, `"Project"`)
	r = prod.query(t, typo, nil)
	require.NotEmpty(t, r.Errors)
	require.NotContains(t, r.Errors[0].Message, "Did you mean")
	require.Equal(t, http.StatusNotFound, prod.send(t, request{method: http.MethodGet, path: "/"}).status, "no Playground")
	require.Equal(t, http.StatusOK, dev.send(t, request{method: http.MethodGet, path: "/"}).status, "Playground")
	require.Empty(t, prod.upstream())
}

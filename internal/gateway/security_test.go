package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/gateway"
)

// request is one raw HTTP request to the gateway.
type request struct {
	method  string
	path    string // default /query
	header  map[string]string
	body    io.Reader
	chunked bool // hide the length, so only reading finds the body's size
}

// answer is the gateway's raw answer.
type answer struct {
	status int
	header http.Header
	body   string
	errors []gqlError
	data   json.RawMessage
}

// send makes a raw request and decodes the GraphQL envelope, which every
// /query answer must have.
func (e *env) send(t testing.TB, r request) answer {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = "/query"
	}
	body := r.body
	if r.chunked && body != nil {
		body = io.MultiReader(body)
	}
	req, err := http.NewRequest(r.method, e.gateway.URL+r.path, body)
	require.NoError(t, err)
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw := readAll(t, resp)
	a := answer{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(r.path, "/query") && r.method != http.MethodOptions {
		var env struct {
			Errors []gqlError      `json:"errors"`
			Data   json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &env), "not a JSON envelope: %.300s", raw)
		a.errors, a.data = env.Errors, env.Data
	}
	return a
}

func jsonBody(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

var (
	jsonHeader    = map[string]string{"Content-Type": "application/json"}
	gqlRespHeader = map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
	preflight     = map[string]string{"Apollo-Require-Preflight": "true"}
)

func post(t testing.TB, query string, vars map[string]any) request {
	return request{header: jsonHeader, body: jsonBody(t, map[string]any{"query": query, "variables": vars})}
}

func get(query string, header map[string]string) request {
	return request{method: http.MethodGet, path: "/query?query=" + url.QueryEscape(query), header: header}
}

// nested returns a query depth levels deep along projects → ennis → …
func nested(depth int) string {
	var b strings.Builder
	for i := range depth - 1 {
		b.WriteString([]string{"projects { ", "ennis { "}[i%2])
	}
	b.WriteString("code")
	b.WriteString(strings.Repeat(" }", depth-1))
	return "{ " + b.String() + " }"
}

func repeat(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

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

// TestMediaTypes checks GraphQL over HTTP: the response type follows Accept
// and the status follows the type.
func TestMediaTypes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, accept, query, wantType string
		wantStatus                    int
	}{
		{"no Accept", "", "{ terminateReasons { code } }", "application/json", 200},
		{"json", "application/json", "{ terminateReasons { code } }", "application/json", 200},
		{"graphql-response+json", "application/graphql-response+json", "{ terminateReasons { code } }", "application/graphql-response+json", 200},
		{"preference order", "application/graphql-response+json, application/json;q=0.9", "{ terminateReasons { code } }", "application/graphql-response+json", 200},
		{"q values", "application/graphql-response+json;q=0.5, application/json", "{ terminateReasons { code } }", "application/json", 200},
		{"any", "*/*", "{ terminateReasons { code } }", "application/json", 200},
		{"validation error, json", "application/json", "{ nope }", "application/json", 200},
		{"validation error, graphql-response+json", "application/graphql-response+json", "{ nope }", "application/graphql-response+json", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/json"}
			if tt.accept != "" {
				h["Accept"] = tt.accept
			}
			a := e.send(t, request{header: h, body: jsonBody(t, map[string]any{"query": tt.query})})
			require.Equal(t, tt.wantStatus, a.status, a.body)
			require.Equal(t, tt.wantType, a.header.Get("Content-Type"))
		})
	}
	t.Run("operationName and variables over GET", func(t *testing.T) {
		q := url.Values{
			"query":         {`query A { terminateReasons { code } } query B($c: String!) { project(code: $c) { code } }`},
			"operationName": {"B"},
			"variables":     {`{"c": "FLASH"}`},
		}
		a := e.send(t, request{method: http.MethodGet, path: "/query?" + q.Encode(), header: preflight})
		require.Equal(t, 200, a.status, a.body)
		require.JSONEq(t, `{"project":{"code":"FLASH"}}`, string(a.data))
	})
}

// TestCSRF checks Apollo's CSRF prevention rule.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	body := `{"query":"{ terminateReasons { code } }"}`
	tests := []struct {
		name   string
		method string
		header map[string]string
		ok     bool
	}{
		{"json POST", "POST", map[string]string{"Content-Type": "application/json; charset=utf-8"}, true},
		{"no content type", "POST", nil, false},
		{"form POST", "POST", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, false},
		{"multipart POST", "POST", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, false},
		{"text/plain POST", "POST", map[string]string{"Content-Type": "text/plain;charset=utf-8"}, false},
		{"bare GET", "GET", nil, false},
		{"GET with Content-Type: application/json", "GET", map[string]string{"Content-Type": "application/json"}, false},
		{"GET with an empty header", "GET", map[string]string{"Apollo-Require-Preflight": ""}, false},
		{"GET with Apollo-Require-Preflight", "GET", map[string]string{"Apollo-Require-Preflight": "true"}, true},
		{"GET with X-Apollo-Operation-Name", "GET", map[string]string{"X-Apollo-Operation-Name": "Q"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request{method: tt.method, header: tt.header, body: strings.NewReader(body)}
			if tt.method == "GET" {
				r = get("{ terminateReasons { code } }", tt.header)
			}
			e.upstream()
			a := e.send(t, r)
			if !tt.ok {
				require.Equal(t, http.StatusBadRequest, a.status, a.body)
				require.Equal(t, gateway.CodeCSRF, a.errors[0].Extensions["code"])
				require.Empty(t, e.upstream())
				return
			}
			require.Equal(t, http.StatusOK, a.status, a.body)
			require.Empty(t, a.errors)
		})
	}
}

// TestCORS checks that only allowlisted origins get CORS headers, and
// credentials, and that preflights are answered.
func TestCORS(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.net"
	preflightFrom := func(origin string) request {
		return request{method: http.MethodOptions, header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		}}
	}
	e := newEnv(t, withSecurity(gateway.Security{CORSAllowedOrigins: []string{allowed}}))
	a := e.send(t, preflightFrom(allowed))
	require.Less(t, a.status, 300)
	require.Equal(t, allowed, a.header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", a.header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, strings.ToLower(a.header.Get("Access-Control-Allow-Headers")), "content-type")

	a = e.send(t, preflightFrom(other))
	require.Empty(t, a.header.Get("Access-Control-Allow-Origin"))
	require.Empty(t, a.header.Get("Access-Control-Allow-Credentials"))

	r := post(t, "{ terminateReasons { code } }", nil)
	r.header = map[string]string{"Content-Type": "application/json", "Origin": allowed}
	a = e.send(t, r)
	require.Equal(t, allowed, a.header.Get("Access-Control-Allow-Origin"))

	def := newEnv(t)
	a = def.send(t, preflightFrom(allowed))
	require.Empty(t, a.header.Get("Access-Control-Allow-Origin"), "no origin is allowed by default")
}

// TestRateLimit checks the per-client token bucket: a client past its burst
// gets 429 with Retry-After, other clients are not affected, and a client
// is its address unless it authenticates, so made-up credentials buy
// nothing (ratelimit_test.go has the authenticated and proxied cases).
func TestRateLimit(t *testing.T) {
	e := newEnv(t, withSecurity(gateway.Security{RateLimit: gateway.RateLimit{RPS: 0.01, Burst: 2}}))
	as := func(auth string) answer {
		r := post(t, "{ __typename }", nil)
		r.header = map[string]string{"Content-Type": "application/json"}
		if auth != "" {
			r.header["Authorization"] = auth
		}
		return e.send(t, r)
	}
	const alice, bob = "Bearer alice-secret-token", "Bearer bob-secret-token"
	require.Equal(t, 200, as(alice).status)
	require.Equal(t, 200, as("").status)
	a := as(bob)
	require.Equal(t, http.StatusTooManyRequests, a.status, "another unchecked credential is the same client: "+a.body)
	require.Equal(t, gateway.CodeTooManyRequests, a.errors[0].Extensions["code"])
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	require.NoError(t, err)
	require.Greater(t, secs, 0)
	require.NotContains(t, a.body, "bob-secret-token")
	require.NotContains(t, e.log.String(), "secret-token")

	off := newEnv(t)
	for range 20 {
		require.Equal(t, 200, off.send(t, post(t, "{ __typename }", nil)).status, "no rate limit by default")
	}
}

// TestPersistedQueries checks APQ and the manifest safelist.
func TestPersistedQueries(t *testing.T) {
	apq := func(query, hash string) request {
		body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
		if query != "" {
			body["query"] = query
		}
		return request{header: jsonHeader, body: jsonBody(t, body)}
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	const q = "{ terminateReasons { code } }"

	t.Run("APQ", func(t *testing.T) {
		e := newEnv(t)
		a := e.send(t, apq("", sum(q)))
		require.Equal(t, 200, a.status)
		require.Equal(t, gateway.CodePersistedQueryNotFound, a.errors[0].Extensions["code"])
		a = e.send(t, apq(q, sum(q)))
		require.Empty(t, a.errors, a.body)
		a = e.send(t, apq("", sum(q)))
		require.Empty(t, a.errors, a.body)
		require.Contains(t, string(a.data), "terminateReasons")
	})

	m, err := gateway.LoadManifest("testdata/manifest.json")
	require.NoError(t, err)
	t.Run("manifest alongside free queries", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{Manifest: m}))
		a := e.send(t, apq("", "terminate-reasons-v1"))
		require.Empty(t, a.errors, a.body)
		e.mustQuery(t, "{ businesses { code } }", nil)
	})
	t.Run("safelist only", func(t *testing.T) {
		e := newEnv(t, withSecurity(gateway.Security{Manifest: m, PersistedOnly: true}))
		tests := []struct {
			name string
			req  request
			code string
		}{
			{"by id", apq("", "terminate-reasons-v1"), ""},
			{"by id, with its body", apq("query TerminateReasons { terminateReasons { code } }", "terminate-reasons-v1"), ""},
			{"by body", post(t, "query Businesses { businesses { code } }", nil), ""},
			{"unknown id", apq("", sum(q)), gateway.CodePersistedQueryNotFound},
			{"APQ registration", apq(q, sum(q)), gateway.CodePersistedQueryNotInList},
			{"free-form query", post(t, q, nil), gateway.CodePersistedQueryNotInList},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.upstream()
				a := e.send(t, tt.req)
				require.Equal(t, 200, a.status, a.body)
				if tt.code == "" {
					require.Empty(t, a.errors, a.body)
					return
				}
				require.Len(t, a.errors, 1, a.body)
				require.Equal(t, tt.code, a.errors[0].Extensions["code"])
				require.Empty(t, e.upstream())
			})
		}
	})
}

// TestLoadManifest checks that a bad manifest is refused with a reason.
func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not JSON":     `{`,
		"wrong format": `{"format":"other","version":1,"operations":[]}`,
		"no body":      `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a"}]}`,
		"duplicate id": `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","body":"{a}"},{"id":"a","body":"{b}"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := dir + "/" + strings.ReplaceAll(name, " ", "_") + ".json"
			require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
			_, err := gateway.LoadManifest(p)
			require.Error(t, err)
		})
	}
}

// TestNoCredentialEchoed checks that a credential sent in a request never
// comes back, in a refusal or an answer, nor reaches the log.
func TestNoCredentialEchoed(t *testing.T) {
	e := newEnv(t)
	const secret = "Bearer super-secret-credential"
	for _, r := range []request{
		{header: map[string]string{"Content-Type": "application/json", "Authorization": secret}, body: strings.NewReader(`{"query": "` + secret)},
		{header: map[string]string{"Content-Type": "application/json", "Authorization": secret}, body: strings.NewReader(`{"query": "{ project(code: \"` + secret + `\") { nope } }"}`)},
		{header: map[string]string{"Content-Type": "text/plain", "Authorization": secret}, body: strings.NewReader(secret)},
	} {
		a := e.send(t, r)
		require.NotContains(t, a.body, "super-secret-credential")
	}
	require.NotContains(t, e.log.String(), "super-secret-credential")
}

// TestRequestDeadline checks the overall request deadline cancels a slow
// upstream call and answers with a coded error.
func TestRequestDeadline(t *testing.T) {
	e := newEnv(t, withSecurity(gateway.Security{RequestTimeout: 50 * time.Millisecond}))
	e.fault("/api/v1/referential/terminate_reason", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	r := e.query(t, "{ terminateReasons { code } changeReasons { code } }", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotEmpty(t, r.Errors, r.Body)
	// On a loaded machine changeReasons may miss the 50 ms deadline too,
	// and the order of errors is not defined: look terminateReasons up.
	var found bool
	for _, err := range r.Errors {
		if len(err.Path) == 1 && err.Path[0] == "terminateReasons" {
			require.Equal(t, "UPSTREAM_TIMEOUT", err.Extensions["code"], r.Body)
			found = true
		}
	}
	require.True(t, found, r.Body)
}

package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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

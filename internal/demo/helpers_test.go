package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

const api = "/api/v1/referential/"

// testClient times out rather than let a broken server hang the suite.
var testClient = &http.Client{Timeout: 10 * time.Second}

// start serves a demo server over HTTP for the test's lifetime.
func start(t testing.TB, ds *demo.Dataset, opts ...demo.Option) (*demo.Server, *httptest.Server) {
	t.Helper()
	s := demo.New(ds, opts...)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// response is what a test needs from an answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request and reads the whole answer.
func do(t testing.TB, method, url string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := testClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func get(t testing.TB, url string) response {
	t.Helper()
	return do(t, http.MethodGet, url, nil)
}

// decode unmarshals an answer's body, failing the test if it is not JSON.
func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "body: %s", body)
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

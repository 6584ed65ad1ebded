package gateway_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gregjones/httpcache"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// get sends a GraphQL GET with the given headers, on a transport that
// neither adds Accept-Encoding nor decodes, and returns the raw answer.
func getRaw(t *testing.T, base, query string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/query?query="+url.QueryEscape(query), nil)
	require.NoError(t, err)
	req.Header.Set("Apollo-Require-Preflight", "true")
	req.Close = true // a transport per request: keep no idle connection
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}

func unzstd(t *testing.T, b []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(nil)
	require.NoError(t, err)
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	require.NoError(t, err)
	return out
}

const bigQuery = `{ projects { code ennis { reference } } }`

func TestCompressionFollowsAcceptEncoding(t *testing.T) {
	e := newEnv(t, withData(demo.Generate(50, 200, 10)), withCache(cache.Config{}), withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20}
	}))
	_, identity := getRaw(t, e.gateway.URL, bigQuery, map[string]string{"Accept-Encoding": "identity"})
	require.Greater(t, len(identity), 4096)
	require.Contains(t, string(identity), `"projects"`)

	for name, tc := range map[string]struct {
		accept, want string
	}{
		"gzip only":             {"gzip", "gzip"},
		"zstd only":             {"zstd", "zstd"},
		"both: zstd preferred":  {"gzip, zstd", "zstd"},
		"zstd refused by q=0":   {"zstd;q=0, gzip", "gzip"},
		"gzip refused by q=0":   {"gzip;q=0, zstd", "zstd"},
		"neither":               {"br", ""},
		"identity":              {"identity", ""},
		"none sent":             {"", ""},
		"both refused by q=0":   {"gzip;q=0, zstd;q=0", ""},
		"unknown and gzip only": {"compress, gzip;q=0.5", "gzip"},
	} {
		t.Run(name, func(t *testing.T) {
			// Twice: the second answer comes from the response cache, with
			// the encoding it kept.
			for range 2 {
				resp, body := getRaw(t, e.gateway.URL, bigQuery, map[string]string{"Accept-Encoding": tc.accept})
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, tc.want, resp.Header.Get("Content-Encoding"))
				require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
				switch tc.want {
				case "gzip":
					body = gunzip(t, body)
				case "zstd":
					body = unzstd(t, body)
				}
				require.Equal(t, string(identity), string(body))
			}
		})
	}

	// A body under 1 KiB is sent as it is, still varying on the encoding.
	resp, body := getRaw(t, e.gateway.URL, `{ terminateReasons { code } }`, map[string]string{"Accept-Encoding": "gzip, zstd"})
	require.Less(t, len(body), 1024)
	require.Empty(t, resp.Header.Get("Content-Encoding"))
	require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
}

func TestPlaygroundIsCompressed(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequest(http.MethodGet, e.gateway.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	html := string(gunzip(t, page))
	require.Contains(t, html, "<html")

	// And one of the page's own assets.
	i := strings.Index(html, "/playground/assets/")
	require.Positive(t, i)
	asset := html[i : i+strings.IndexAny(html[i:], `"'`)]
	req, err = http.NewRequest(http.MethodGet, e.gateway.URL+asset, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "zstd")
	resp, err = (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, asset)
	require.Equal(t, "zstd", resp.Header.Get("Content-Encoding"), asset)
	require.NotEmpty(t, unzstd(t, b))
}

// responseEvents counts the response cache's hits and misses.
type responseEvents struct{ hits, misses atomic.Int64 }

func (r *responseEvents) option() option {
	return withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20, OnEvent: r.event}
	})
}

func (r *responseEvents) event(result string) {
	if result == "hit" {
		r.hits.Add(1)
	} else {
		r.misses.Add(1)
	}
}

func maxAge(t *testing.T, resp *http.Response) (scope string, age int) {
	t.Helper()
	cc := resp.Header.Get("Cache-Control")
	scope, rest, ok := strings.Cut(cc, ", max-age=")
	require.True(t, ok, "Cache-Control: %q", cc)
	age, err := strconv.Atoi(rest)
	require.NoError(t, err)
	return scope, age
}

func TestETagAndNotModified(t *testing.T) {
	var ev responseEvents
	e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Hour, TTL: map[string]time.Duration{covage.EndpointTerminateReason: time.Minute}}), ev.option())
	const q = `{ terminateReasons { code label } ennis { reference } }`

	resp, body := getRaw(t, e.gateway.URL, q, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"[0-9]+-[A-Za-z0-9_-]{11}"$`, etag, "a strong ETag")
	scope, age := maxAge(t, resp)
	require.Equal(t, "public", scope)
	require.InDelta(t, 60, age, 1, "the least freshness of the entries read: terminate reasons' minute")
	require.ElementsMatch(t, []string{"Accept", "Accept-Encoding"}, resp.Header.Values("Vary"))
	require.Len(t, e.upstream(), 2)

	// Revalidation: the ETag matches, so 304 and no body, from the response
	// cache without running anything.
	hits := ev.hits.Load()
	for _, inm := range []string{etag, `W/` + etag, `"other", ` + etag, "*"} {
		resp, body := getRaw(t, e.gateway.URL, q, map[string]string{"If-None-Match": inm})
		require.Equal(t, http.StatusNotModified, resp.StatusCode, inm)
		require.Empty(t, body)
		require.NotEmpty(t, resp.Header.Get("ETag"))
		require.Contains(t, resp.Header.Get("Cache-Control"), "max-age=")
	}
	require.Equal(t, hits+4, ev.hits.Load())
	require.Empty(t, e.upstream())

	// A tag that does not match gets the answer, with the same ETag.
	resp, again := getRaw(t, e.gateway.URL, q, map[string]string{"If-None-Match": `"stale-tag"`})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, string(body), string(again))
	require.Equal(t, etag, resp.Header.Get("ETag"))

	// A compressed answer's ETag names its encoding, and revalidates too.
	resp, _ = getRaw(t, e.gateway.URL, `{ ennis { reference label } terminateReasons { code label } }`, map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	gzTag := resp.Header.Get("ETag")
	require.True(t, strings.HasSuffix(gzTag, `-gzip"`), gzTag)
	resp, body = getRaw(t, e.gateway.URL, `{ ennis { reference label } terminateReasons { code label } }`, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzTag})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)
	require.Equal(t, gzTag, resp.Header.Get("ETag"))

	// POST answers carry the ETag too, but only GET is revalidated.
	post, err := http.NewRequest(http.MethodPost, e.gateway.URL+"/query", strings.NewReader(`{"query":"`+q+`"}`))
	require.NoError(t, err)
	post.Header.Set("Content-Type", "application/json")
	post.Header.Set("If-None-Match", etag)
	presp, err := http.DefaultClient.Do(post)
	require.NoError(t, err)
	presp.Body.Close()
	require.Equal(t, http.StatusOK, presp.StatusCode)
	require.Equal(t, etag, presp.Header.Get("ETag"))
}

func TestCacheControlNoStoreForErrorsAndStale(t *testing.T) {
	e := newEnv(t, withCache(cache.Config{DefaultTTL: 30 * time.Millisecond}))
	// Errors: a refused query and a failing field.
	resp, body := getRaw(t, e.gateway.URL, `{ nope }`, nil)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.NotEmpty(t, resp.Header.Get("ETag"))
	require.NotContains(t, string(body), `"data"`, "a request refused before execution has no data entry")
	// A refusal before GraphQL (a GET without the CSRF header) too.
	req, err := http.NewRequest(http.MethodGet, e.gateway.URL+"/query?query=%7Bx%7D", nil)
	require.NoError(t, err)
	refused, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	refused.Body.Close()
	require.Equal(t, http.StatusBadRequest, refused.StatusCode)
	require.Equal(t, "no-store", refused.Header.Get("Cache-Control"))
	require.NotEmpty(t, refused.Header.Get("ETag"))
	resp, body = getRaw(t, e.gateway.URL, `{ nope }`, map[string]string{"Accept": "application/graphql-response+json"})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.NotContains(t, string(body), `"data"`)

	resp, _ = getRaw(t, e.gateway.URL, `{ ennis { reference } }`, nil)
	_, age := maxAge(t, resp)
	require.Zero(t, age, "30ms of freshness is 0 whole seconds")

	e.fault("/api/v1/referential/enni", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotImplemented) })
	require.Eventually(t, func() bool {
		resp, body := getRaw(t, e.gateway.URL, `{ ennis { reference } }`, nil)
		return strings.Contains(string(body), `"stale"`) && resp.Header.Get("Cache-Control") == "no-store"
	}, 5*time.Second, 10*time.Millisecond, "a stale answer is not to be stored")
	e.fault("/api/v1/referential/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotImplemented) })
	resp, body = getRaw(t, e.gateway.URL, `{ siteConnectionTypes { code } ennis { reference } }`, nil)
	require.Contains(t, string(body), `"errors"`)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

func TestCallerSpecificAnswersArePrivate(t *testing.T) {
	for name, o := range map[string]option{
		"pass-through":    withPassThrough(),
		"caller-specific": withGateway(func(o *gateway.Options) { o.CallerSpecific = true }),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, withCache(cache.Config{}), o)
			resp, _ := getRaw(t, e.gateway.URL, `{ terminateReasons { code } }`, map[string]string{"Authorization": "Bearer t0k"})
			require.Equal(t, http.StatusOK, resp.StatusCode)
			scope, age := maxAge(t, resp)
			require.Equal(t, "private", scope)
			require.Positive(t, age)
			require.ElementsMatch(t, []string{"Accept", "Authorization", "X-API-Key", "Accept-Encoding"}, resp.Header.Values("Vary"))
		})
	}
}

func TestRevalidatedAnswersHaveNoFreshness(t *testing.T) {
	clk := &testClock{t: time.Now()}
	e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, Now: clk.Now}))
	resp, _ := getRaw(t, e.gateway.URL, `{ terminateReasons { code } }`, nil)
	_, age := maxAge(t, resp)
	require.Equal(t, 60, age)
	clk.add(61 * time.Second)
	resp, body := getRaw(t, e.gateway.URL, `{ terminateReasons { code } }`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, string(body), `"stale"`, "an answer given while refreshing is not stale")
	scope, age := maxAge(t, resp)
	require.Equal(t, "public", scope)
	require.Zero(t, age)
	e.cache.Wait()
}

// testClock is a clock the test moves by hand (add), for caches and
// credentials whose expiry must not depend on the machine's speed.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestHTTPCacheClient drives the gateway with a real HTTP cache client
// (gregjones/httpcache): a fresh answer is reused without a request, and an
// answer with no freshness is revalidated with If-None-Match and reused on
// 304.
func TestHTTPCacheClient(t *testing.T) {
	var ev responseEvents
	e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Hour, TTL: map[string]time.Duration{covage.EndpointChangeReason: 0}}), ev.option())
	net := &countingTransport{next: http.DefaultTransport}
	client := &http.Client{Transport: &httpcache.Transport{Transport: net, Cache: httpcache.NewMemoryCache(), MarkCachedResponses: true}}
	fetch := func(q string) (string, string) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.gateway.URL+"/query?query="+url.QueryEscape(q), nil)
		require.NoError(t, err)
		req.Header.Set("Apollo-Require-Preflight", "true")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return string(body), resp.Header.Get(httpcache.XFromCache)
	}

	// Fresh for an hour: the second answer never leaves the client.
	first, from := fetch(`{ terminateReasons { code label } }`)
	require.Empty(t, from)
	again, from := fetch(`{ terminateReasons { code label } }`)
	require.Equal(t, first, again)
	require.Equal(t, "1", from)
	require.EqualValues(t, 1, net.n.Load())

	// No freshness (an endpoint the shared cache does not keep): every use
	// revalidates, and the gateway answers 304, so the client reuses its
	// copy.
	first, _ = fetch(`{ changeReasons { code label } }`)
	require.EqualValues(t, 2, net.n.Load())
	for range 3 {
		again, from := fetch(`{ changeReasons { code label } }`)
		require.Equal(t, first, again)
		require.Equal(t, "1", from, "served from the client's cache after a 304")
	}
	require.EqualValues(t, 5, net.n.Load(), "one revalidation per use")
	require.Len(t, e.upstream(), 5, "the uncached endpoint is asked each time, the fresh one once")
}

// TestNobodyWaitsForARefresh: once an answer is warm, a request after its
// expiry is answered at once from the expired value while Covage, which
// now hangs until the test releases it, is asked once in the background;
// the refreshed value follows.
func TestNobodyWaitsForARefresh(t *testing.T) {
	clk := &testClock{t: time.Now()}
	e := newEnv(t, withCache(cache.Config{DefaultTTL: time.Minute, SWR: time.Minute, Now: clk.Now}))
	const q = `{ terminateReasons { code label } }`
	_, first := getRaw(t, e.gateway.URL, q, nil)
	require.Len(t, e.upstream(), 1)

	release := make(chan struct{})
	var asked atomic.Int64
	e.fault("/api/v1/referential/terminate_reason", func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release
		e.demo.ServeHTTP(w, r)
	})
	clk.add(61 * time.Second)
	for range 5 {
		// Each would hang until release if it waited for Covage.
		resp, body := getRaw(t, e.gateway.URL, q, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, string(first), string(body))
		require.Equal(t, "public, max-age=0", resp.Header.Get("Cache-Control"))
	}
	require.LessOrEqual(t, asked.Load(), int64(1), "one refresh, in the background")
	close(release)
	e.cache.Wait()
	require.EqualValues(t, 1, asked.Load())
	resp, _ := getRaw(t, e.gateway.URL, q, nil)
	_, age := maxAge(t, resp)
	require.Equal(t, 60, age, "fresh again")
}

// TestPersistedQueryGETIsRevalidated: a GET by persisted-query hash gets
// 304 when its ETag matches, like a GET with the query text.
func TestPersistedQueryGETIsRevalidated(t *testing.T) {
	e := newEnv(t, withCache(cache.Config{}), withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20}
	}))
	const q = `{ changeReasons { code label } }`
	sum := sha256.Sum256([]byte(q))
	ext := url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`)
	send := func(withQuery bool, inm string) (*http.Response, []byte) {
		u := e.gateway.URL + "/query?extensions=" + ext
		if withQuery {
			u += "&query=" + url.QueryEscape(q)
		}
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header.Set("Apollo-Require-Preflight", "true")
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, body
	}
	resp, body := send(true, "") // registers the query
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	e.upstream()
	resp, body = send(false, etag)
	require.Equal(t, http.StatusNotModified, resp.StatusCode, string(body))
	require.Empty(t, body)
	require.Empty(t, e.upstream())
}

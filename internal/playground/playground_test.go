package playground

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	stdhtml "html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gqlgenSRI are the integrity hashes gqlgen's playground.Handler pins for
// its CDN URLs. Our copies must be the same bytes. (The explorer's CSS is
// minified by the CDN on the fly, so npm's file differs and is not listed.)
var gqlgenSRI = map[string]string{
	"graphiql.min.js":             "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
	"graphiql.min.css":            "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
	"react.production.min.js":     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
	"react-dom.production.min.js": "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	"plugin-explorer.umd.js":      "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=",
}

func TestAssetsMatchGqlgenPins(t *testing.T) {
	for name, want := range gqlgenSRI {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("assets", name))
			require.NoError(t, err)
			require.Equal(t, want, integrity(b))
		})
	}
}

// TestAssetsMatchChecksums checks the committed files against the
// SHA256SUMS that fetch-assets.sh wrote, so a hand edit shows up.
func TestAssetsMatchChecksums(t *testing.T) {
	f, err := os.Open(filepath.Join("assets", "SHA256SUMS"))
	require.NoError(t, err)
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, sc.Text())
		b, err := os.ReadFile(filepath.Join("assets", name))
		require.NoError(t, err)
		got := sha256.Sum256(b)
		require.Equal(t, sum, hex.EncodeToString(got[:]), name)
		listed[name] = true
	}
	require.NoError(t, sc.Err())
	entries, err := os.ReadDir("assets")
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "SHA256SUMS" {
			require.True(t, listed[e.Name()], "%s is not in SHA256SUMS: run fetch-assets.sh", e.Name())
		}
	}
}

// TestPageIsSelfContained checks that the page loads only from the gateway,
// with integrity hashes that match what the asset handler serves.
func TestPageIsSelfContained(t *testing.T) {
	page, assets, err := New("Covage GraphQL", "/query")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET "+AssetPath, assets)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	html := get(t, srv.URL+"/", http.StatusOK)
	require.NotContains(t, html, "cdn.jsdelivr.net")
	require.NotContains(t, html, "https://")
	require.Contains(t, html, `location.host + "/query"`, "the page queries /query")

	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(html, -1)
	require.Len(t, refs, 7, "react, react-dom, 2 css, graphiql, explorer, examples")
	for _, ref := range refs {
		require.True(t, strings.HasPrefix(ref[1], AssetPath), ref[1])
		body := get(t, srv.URL+ref[1], http.StatusOK)
		require.Equal(t, stdhtml.UnescapeString(ref[2]), integrity([]byte(body)), ref[1])
	}
	// The examples script runs after GraphiQL loads and before the page
	// renders it.
	examples := strings.Index(html, "defaults.js")
	require.Greater(t, examples, strings.Index(html, "graphiql.min.js"))
	require.Less(t, examples, strings.Index(html, "ReactDOM.render"))

	get(t, srv.URL+AssetPath, http.StatusNotFound)
	get(t, srv.URL+AssetPath+"nope.js", http.StatusNotFound)
	get(t, srv.URL+AssetPath+"../playground.go", http.StatusNotFound)
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, url)
	return string(b)
}

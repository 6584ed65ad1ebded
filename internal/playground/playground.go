// Package playground serves the GraphiQL Playground entirely from the
// gateway's binary: the page, React, GraphiQL and its explorer plugin, so it
// opens on networks that block CDNs, or with no internet at all.
//
// The third-party files under assets/ are produced by fetch-assets.sh from
// the npm registry, at the versions gqlgen's playground.Handler pins; they are
// never edited by hand. The page itself is gqlgen's, pointed at our copies
// with the subresource-integrity hashes computed from the embedded bytes.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/playground"
)

// AssetPath is the URL path the assets are served under.
const AssetPath = "/playground/assets/"

//go:embed assets/*.js assets/*.css static/*.js
var files embed.FS

// examplesScript names the script that adds the example queries.
const examplesScript = "defaults.js"

// New returns the handler of the Playground page, for "GET /", and the
// handler of its assets, for "GET " + AssetPath. The page queries endpoint.
func New(title, endpoint string) (page, assets http.Handler, err error) {
	sri := func(name string) (string, string, error) {
		b, err := fs.ReadFile(files, "assets/"+name)
		if err != nil {
			return "", "", err
		}
		return AssetPath + name, integrity(b), nil
	}
	var urls [6]string
	var sums [6]string
	for i, name := range []string{
		"graphiql.min.js", "graphiql.min.css",
		"react.production.min.js", "react-dom.production.min.js",
		"plugin-explorer.umd.js", "plugin-explorer.css",
	} {
		if urls[i], sums[i], err = sri(name); err != nil {
			return nil, nil, fmt.Errorf("playground: %w", err)
		}
	}
	gql := playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(urls[0], urls[1], sums[0], sums[1]),
		playground.WithGraphiqlReactVersion(urls[2], urls[3], sums[2], sums[3]),
		playground.WithGraphiqlEnablePluginExplorer(true),
		playground.WithGraphiqlPluginExplorerVersion(urls[4], urls[5], sums[4], sums[5]),
		playground.WithStoragePrefix("covage:"),
	)
	html, err := render(gql)
	if err != nil {
		return nil, nil, err
	}

	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, nil, err
	}
	ex, err := fs.ReadFile(static, examplesScript)
	if err != nil {
		return nil, nil, err
	}
	// The examples script must run after GraphiQL is defined and before the
	// page's inline script renders it: right before the first inline script.
	tag := fmt.Sprintf("<script src=\"%s%s\" integrity=\"%s\" crossorigin=\"anonymous\"></script>\n    <script>",
		AssetPath, examplesScript, integrity(ex))
	i := bytes.Index(html, []byte("<script>"))
	if i < 0 {
		return nil, nil, fmt.Errorf("playground: gqlgen's page has no inline script to put the examples before")
	}
	html = append(html[:i:i], append([]byte(tag), html[i+len("<script>"):]...)...)

	page = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(html)
	})
	assetFS := http.FileServerFS(union{files, static})
	assets = http.StripPrefix(AssetPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		// The names carry no version and embedded files have no
		// modification time, so caches must revalidate.
		w.Header().Set("Cache-Control", "no-cache")
		assetFS.ServeHTTP(w, r)
	}))
	return page, assets, nil
}

// render runs gqlgen's page handler once: the page depends only on the
// options, so it is rendered at start and served from memory.
func render(h http.Handler) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		return nil, err
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(rec, req)
	if rec.code != http.StatusOK {
		return nil, fmt.Errorf("playground: gqlgen's page answered %d", rec.code)
	}
	return rec.body.Bytes(), nil
}

// recorder keeps what a handler writes.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

// integrity is the subresource-integrity value of b.
func integrity(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// union serves a name from assets/ first, then from static/.
type union struct {
	embedded embed.FS
	static   fs.FS
}

func (u union) Open(name string) (fs.File, error) {
	if f, err := u.embedded.Open("assets/" + name); err == nil {
		return f, nil
	}
	return u.static.Open(name)
}

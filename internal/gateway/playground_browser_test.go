package gateway_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// screenshotPath is where UPDATE_SCREENSHOT=1 writes the README's picture.
var screenshotPath = filepath.Join("..", "..", "docs", "playground.png")

// chromiumPath finds a Chromium to drive. The test is skipped without one
// on a developer machine, and fails without one in CI (CI set), which must
// install the chromium package.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed (apt-get install chromium chromium-driver); CI runs this test")
	}
	t.Fatal("chromium is not installed, and CI is set: .ci/run must install it")
	return ""
}

// TestPlaygroundInBrowser opens the Playground in a headless Chromium that
// can reach nothing but loopback, runs its default query and checks that the
// answer shows. Every request the page makes must go to the gateway: the
// Playground must work with no internet access.
func TestPlaygroundInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	e := newEnv(t)
	gw, err := url.Parse(e.gateway.URL)
	require.NoError(t, err)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// No network beyond loopback: names do not resolve, and anything
		// that still tries goes to a proxy that does not exist.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "127.0.0.1"),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	var (
		mu       sync.Mutex
		requests []string
		failures []string
	)
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			failures = append(failures, ev.ErrorText+" "+string(ev.BlockedReason))
		case *runtime.EventExceptionThrown:
			failures = append(failures, "javascript: "+(&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		}
	}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 45*time.Second)
	defer cancelTimeout()

	const editor = `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`
	const result = `(document.querySelector('.graphiql-response .CodeMirror') || {CodeMirror: {getValue: () => ''}}).CodeMirror.getValue()`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.gateway.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-query-editor .CodeMirror`)),
	))
	query, err := chromedp.Run(ctx, chromedp.Evaluate[string](editor))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.graphiql-execute-button`))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](result+`.includes('PRJ-DC123-FIBRE')`, chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the answer did not show")
	answer, err := chromedp.Run(ctx, chromedp.Evaluate[string](result))
	require.NoError(t, err)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)

	mu.Lock()
	pageRequests, pageFailures := slices.Clone(requests), slices.Clone(failures)
	mu.Unlock()
	// The browser really is offline: the CDN gqlgen would use is out of reach.
	cdn, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch('https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.js').then(() => 'reached', () => 'blocked')`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, "blocked", cdn)

	// The search-as-you-type tab runs with its variables.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = [...document.querySelectorAll('.graphiql-tab-button')].find(b => b.textContent.includes('SearchAsYouType')); if (b) b.click(); return !!b })()`))
	require.NoError(t, err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](editor+`.includes('query SearchAsYouType')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "no SearchAsYouType tab")
	// GraphiQL learns the tab's operation name a moment after the switch
	// (it parses the editor's text with a debounce); until then a run asks
	// for the previous tab's operation. So the run is repeated, at most
	// twice a second, until the answer shows.
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const r = `+result+`;
		if (r.includes('"totalCount": 8')) return true;
		const now = Date.now();
		if (!window.lastRun || now - window.lastRun > 500) {
			window.lastRun = now;
			document.querySelector('.graphiql-execute-button').click();
		}
		return false;
	})()`, chromedp.WithPollingTimeout(15*time.Second)))
	searched, _ := chromedp.Run(ctx, chromedp.Evaluate[string](result))
	require.NoError(t, err, "the search tab's answer did not show: %.300s", searched)
	require.Contains(t, searched, `"label": "Collecte Régionale Auvergne-Rhône-Alpes"`)
	require.NotContains(t, searched, `"errors"`)

	require.Contains(t, query, "query OrderForm", "the Playground opens on the example queries")
	require.Contains(t, answer, `"reference": "CN012345"`)
	require.NotContains(t, answer, `"errors"`)

	require.Empty(t, pageFailures, "the page loaded with errors")
	require.NotEmpty(t, pageRequests)
	for _, r := range pageRequests {
		u, err := url.Parse(r)
		require.NoError(t, err)
		if u.Scheme == "data" || u.Scheme == "blob" {
			continue
		}
		require.Equal(t, gw.Host, u.Host, "the Playground must load everything from the gateway, not %s", r)
	}
	require.True(t, containsPath(pageRequests, "/query"), "the Playground queried /query")

	out := filepath.Join(t.TempDir(), "playground.png")
	if os.Getenv("UPDATE_SCREENSHOT") != "" {
		out = screenshotPath
	}
	require.NoError(t, os.WriteFile(out, png, 0o644))
	t.Logf("screenshot: %s (%d bytes); %d requests, all to %s", out, len(png), len(pageRequests), gw.Host)
}

func containsPath(urls []string, path string) bool {
	for _, u := range urls {
		if p, err := url.Parse(u); err == nil && strings.HasSuffix(p.Path, path) {
			return true
		}
	}
	return false
}

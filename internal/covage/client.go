// Package covage is a typed client for Covage's reference-data REST API.
//
// Upstream JSON shapes stay inside this package: every method returns the
// plain types of internal/domain, and every failure is an *Error whose Kind
// is one of the sentinel errors (ErrNotFound, ErrUnauthenticated...). Schema
// drift (unknown labels, odd dates, missing fields) is never an error; it is
// logged once per distinct value and reported through Config.OnDrift.
package covage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/oauth2"
)

// Endpoint names, used in errors, logs and metrics.
const (
	EndpointProject         = "project"
	EndpointEnni            = "enni"
	EndpointBusiness        = "business_code"
	EndpointBillingSite     = "billing_site"
	EndpointTerminateReason = "terminate_reason"
	EndpointChangeReason    = "change_reason"
	EndpointSiteConnection  = "site_connection"
)

const (
	defaultTimeout   = DefaultTimeout
	defaultUserAgent = "covage-gateway/dev"
	defaultMaxPages  = 100

	// apiPath is appended to Config.BaseURL.
	apiPath = "/api/v1/referential/"

	maxBodyBytes      = 64 << 20 // one page of a list
	maxErrorBodyBytes = 1 << 20  // drained, never read into an error
	maxIdlePerHost    = 16       // http.DefaultTransport keeps only 2
)

// Config configures a Client. The zero value of every field but BaseURL is
// usable.
type Config struct {
	// BaseURL is Covage's root, e.g. https://api.covage.com; the endpoint
	// paths are appended to it. It must not carry credentials.
	BaseURL string
	// Timeout bounds each HTTP call (each page, each token request);
	// 10s when zero.
	Timeout time.Duration
	// UserAgent is sent on every call; "covage-gateway/dev" when empty.
	UserAgent string
	// Auth authenticates calls; nil sends none.
	Auth Auth
	// HTTPClient is used when set (a shallow copy, so its redirect policy
	// can be tightened); otherwise the client builds its own transport.
	HTTPClient *http.Client
	// MaxPages caps the DRF pages followed per call; 100 when zero.
	MaxPages int
	// Logger receives drift warnings and debug traces; slog.Default() when
	// nil.
	Logger *slog.Logger
	// OnDrift, when set, is called once per distinct unknown upstream value
	// (kind is an endpoint name for reason labels, or "offer", "date",
	// "datetime", "status", "active", "missing_key"), e.g. to count it in a
	// metric. It runs synchronously inside calls, so it must be quick.
	OnDrift func(kind, value string)

	// MaxAttempts is how many times a GET is tried when it fails with a
	// connection error, 502, 503, 504 or 429; 0 or 1 tries once. Retries
	// wait with exponential backoff and full jitter, or Covage's
	// Retry-After, and stop once the caller's ctx is done.
	MaxAttempts int
	// RetryBaseDelay and RetryMaxDelay bound the backoff between retries;
	// 100ms and 2s when zero.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for; a
	// longer one ends the retries. 5s when zero.
	MaxRetryAfter time.Duration
	// BreakerFailures opens an endpoint's circuit breaker after that many
	// consecutive upstream-health failures (5xx, network errors, timeouts,
	// 429); 0 disables the breakers. While open, calls fail fast with
	// ErrCircuitOpen.
	BreakerFailures int
	// BreakerCooldown is how long a breaker stays open before it lets one
	// probe through; 30s when zero.
	BreakerCooldown time.Duration
	// OnBreakerChange, when set, is called when an endpoint's breaker
	// changes state ("closed", "open", "half-open"), e.g. for a metric.
	OnBreakerChange func(endpoint, from, to string)
	// Headers, when set, adds headers of the caller's own to every data
	// call while it is built (the gateway's request id), so that the
	// transport need not copy the request to add them. It must not set
	// the headers the client sets (User-Agent, Accept, Authorization).
	Headers func(ctx context.Context, h http.Header)
}

// Client calls Covage's reference-data endpoints. It is safe for concurrent
// use; build one per upstream and share it.
type Client struct {
	base      *url.URL // validated root, no userinfo
	baseURL   string   // base without a trailing slash, ready to append to
	hc        *http.Client
	tokenHC   *http.Client
	timeout   time.Duration
	userAgent string
	auth      Auth
	maxPages  int
	log       *slog.Logger
	onDrift   func(kind, value string)
	headers   func(ctx context.Context, h http.Header)

	retry    retryPolicy
	breakers map[string]*gobreaker.CircuitBreaker[struct{}] // nil: no breakers

	drift      sync.Map // kind+"\x00"+value -> struct{}
	driftCount atomic.Int64

	labels  labelMemo
	buffers buffers // fastlist.go

	sizes listSizes // listsize.go
}

// New validates cfg and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := parseServiceURL(cfg.BaseURL, false)
	if err != nil {
		return nil, errors.New("covage: base url: " + err.Error())
	}
	if pa, ok := cfg.Auth.(*passwordAuth); ok {
		if _, err := parseServiceURL(pa.conf.Endpoint.TokenURL, true); err != nil {
			return nil, errors.New("covage: token url: " + err.Error())
		}
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("covage: negative timeout")
	}
	if cfg.MaxPages < 0 {
		return nil, errors.New("covage: negative max pages")
	}
	if cfg.MaxAttempts < 0 || cfg.BreakerFailures < 0 {
		return nil, errors.New("covage: negative retry or breaker setting")
	}
	c := &Client{
		base:      base,
		baseURL:   strings.TrimRight(base.String(), "/"),
		timeout:   cmp.Or(cfg.Timeout, defaultTimeout),
		userAgent: cmp.Or(cfg.UserAgent, defaultUserAgent),
		auth:      cfg.Auth,
		maxPages:  cmp.Or(cfg.MaxPages, defaultMaxPages),
		log:       cfg.Logger,
		onDrift:   cfg.OnDrift,
		headers:   cfg.Headers,
		retry:     newRetryPolicy(cfg),
		breakers:  newBreakers(cfg),
	}
	if c.log == nil {
		c.log = slog.Default()
	}

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Transport = newTransport()
	}
	// Data calls carry the token: their redirects stay under BaseURL.
	// Token calls go to the token endpoint, on a host of its own: their
	// redirects stay on that host.
	tokenRedirects := sameHostRedirects(hc.CheckRedirect)
	hc.CheckRedirect = c.underBaseRedirects(hc.CheckRedirect)
	c.hc = &hc

	// oauth2 sets no User-Agent of its own; wrap the transport so that token
	// calls identify themselves like data calls.
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.tokenHC = &http.Client{
		Transport:     userAgentTransport{next: rt, userAgent: c.userAgent},
		CheckRedirect: tokenRedirects,
		Timeout:       hc.Timeout,
	}
	return c, nil
}

// String names the client by its BaseURL, which holds no credential.
func (c *Client) String() string { return "covage.Client(" + c.baseURL + ")" }

// Format prints String for every verb: fmt's fallback for verbs a type does
// not handle dumps nested pointers, which would reach the Auth's password.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// parseServiceURL accepts an absolute http(s) URL without userinfo. Its
// errors never quote the URL, which may hold a password.
func parseServiceURL(raw string, allowQuery bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("not a valid url")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("scheme must be http or https")
	case u.Host == "":
		return nil, errors.New("host is missing")
	case u.User != nil:
		return nil, errors.New("must not contain credentials")
	case u.Fragment != "" || (!allowQuery && (u.RawQuery != "" || u.ForceQuery)):
		return nil, errors.New("must not have a query or fragment")
	}
	return u, nil
}

// newTransport clones http.DefaultTransport, so the client never shares
// connection state or settings with the rest of the process.
func newTransport() *http.Transport {
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t := dt.Clone()
		t.MaxIdleConnsPerHost = maxIdlePerHost
		return t
	}
	// Someone replaced http.DefaultTransport; start from its documented values.
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// sameHostRedirects follows redirects only within the host of the original
// request. Go keeps the Authorization header on redirects to the same
// hostname even when the port changes, so refusing other hosts outright is
// what keeps a token from travelling.
func sameHostRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameHost(req.URL, via[0].URL) {
			return errRedirectHost
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		return nil
	}
}

// underBaseRedirects follows redirects only to URLs under BaseURL: its
// scheme, its host and port, and its path prefix. Staying on the host is
// not enough when Covage's API is one path of a shared host: the token
// must not reach the host's other applications.
func (c *Client) underBaseRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !c.underBase(req.URL) {
			return errRedirectHost
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errTooManyRedirects
		}
		return nil
	}
}

// underBase reports whether u has BaseURL's scheme, host and port, and a
// path at or below BaseURL's path, without a dot segment (which a server
// or proxy could resolve back out of the prefix).
func (c *Client) underBase(u *url.URL) bool {
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Hostname(), c.base.Hostname()) || port(u) != port(c.base) {
		return false
	}
	return c.underBasePath(u)
}

// underBasePath is underBase for the path alone.
func (c *Client) underBasePath(u *url.URL) bool {
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	prefix := strings.TrimSuffix(c.base.Path, "/")
	return prefix == "" || u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/")
}

// sameHost reports whether u points at the same host and port as ref. An
// upgrade from http to https on default ports is allowed.
func sameHost(u, ref *url.URL) bool {
	if !strings.EqualFold(u.Hostname(), ref.Hostname()) {
		return false
	}
	if u.Scheme == ref.Scheme {
		return port(u) == port(ref)
	}
	return ref.Scheme == "http" && u.Scheme == "https" && u.Port() == "" && ref.Port() == ""
}

// port is u's port, defaulted from its scheme.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// userAgentTransport sets the User-Agent of requests it did not build.
type userAgentTransport struct {
	next      http.RoundTripper
	userAgent string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.userAgent)
	return t.next.RoundTrip(r)
}

// endpointURL builds the URL of an endpoint path with its query.
func (c *Client) endpointURL(path string, q url.Values) string {
	u := c.baseURL + apiPath + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// nextURL resolves a DRF next link against the page it came from. It must
// stay under BaseURL (its host and its path prefix), since the request will
// carry the token; its scheme and host are taken from BaseURL, so an http
// link generated behind a TLS proxy does not downgrade the call.
func (c *Client) nextURL(page *url.URL, next string) (string, error) {
	ref, err := url.Parse(next)
	if err != nil {
		return "", errors.New("next link is not a url")
	}
	u := page.ResolveReference(ref)
	if !strings.EqualFold(u.Hostname(), c.base.Hostname()) ||
		(u.Port() != "" && u.Port() != port(c.base)) {
		return "", errors.New("next link points at another host")
	}
	if !c.underBasePath(u) {
		return "", errors.New("next link points outside the base url's path")
	}
	u.Scheme, u.Host, u.User, u.Fragment = c.base.Scheme, c.base.Host, nil, ""
	return u.String(), nil
}

// credentials picks the bearer token for one attempt. A token carried by ctx
// wins over the configured Auth; renew is the Auth to ask for a new token
// after a 401, nil when there is none.
func (c *Client) credentials(ctx context.Context, endpoint string) (tok Secret, renew Auth, err error) {
	if t, ok := bearerFrom(ctx); ok {
		return t, nil, nil
	}
	if c.auth == nil {
		return "", nil, nil
	}
	if t, ok := c.auth.cached(); ok {
		return t, c.auth, nil
	}
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	t, err := c.auth.token(context.WithValue(callCtx, oauth2.HTTPClient, c.tokenHC))
	if err != nil {
		return "", nil, tokenError(endpoint, ctx, callCtx, err)
	}
	return t, c.auth, nil
}

// readFunc consumes a successful response. body is resp.Body behind the size
// limit; resp is there for its final URL.
type readFunc func(resp *http.Response, body io.Reader) error

// get performs one GET through the endpoint's circuit breaker, retrying
// transient failures as Config.MaxAttempts allows. read may run once per
// attempt, so it must start afresh each time.
func (c *Client) get(ctx context.Context, endpoint, rawURL string, read readFunc) error {
	var b *backoff.ExponentialBackOff
	for attempt := 1; ; attempt++ {
		err := c.guarded(ctx, endpoint, func() error { return c.getOnce(ctx, endpoint, rawURL, read) })
		if err == nil {
			return nil
		}
		if b == nil {
			b = c.newBackoff()
		}
		wait, ok := c.retryDelay(ctx, err, attempt, b)
		if !ok {
			return err
		}
		if !sleep(ctx, wait) {
			return contextError(endpoint, ctx, nil)
		}
	}
}

// getOnce performs one GET, re-authenticating and retrying once when a
// password grant token is rejected with a 401.
func (c *Client) getOnce(ctx context.Context, endpoint, rawURL string, read readFunc) error {
	retry, err := c.attempt(ctx, endpoint, rawURL, true, read)
	if retry {
		_, err = c.attempt(ctx, endpoint, rawURL, false, read)
	}
	return err
}

// attempt performs one HTTP call. It reports retry when the call should be
// made again with a new token.
func (c *Client) attempt(ctx context.Context, endpoint, rawURL string, mayRetry bool, read readFunc) (retry bool, err error) {
	tok, renew, err := c.credentials(ctx, endpoint)
	if err != nil {
		return false, err
	}
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, rawURL, nil)
	if err != nil {
		return false, &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: errors.New("invalid request url")}
	}
	if c.headers != nil {
		c.headers(ctx, req.Header)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, transportError(endpoint, ctx, callCtx, err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "covage call",
		slog.String("endpoint", endpoint),
		slog.Int("status", resp.StatusCode),
		slog.Duration("elapsed", time.Since(start)))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The body is drained unread: error bodies may echo credentials.
		drain(resp.Body, maxErrorBodyBytes)
		if resp.StatusCode == http.StatusUnauthorized && mayRetry && renew != nil && renew.invalidate(tok) {
			return true, nil
		}
		return false, statusError(endpoint, resp, time.Now())
	}

	body := &bodyReader{r: resp.Body, left: maxBodyBytes}
	err = read(resp, body)
	drain(resp.Body, maxErrorBodyBytes)
	switch {
	case err == nil:
		return false, nil
	case body.err != nil:
		e := transportError(endpoint, ctx, callCtx, body.err)
		e.StatusCode = resp.StatusCode
		return false, e
	default:
		if e := contextError(endpoint, ctx, callCtx); e != nil {
			return false, e
		}
		return false, &Error{Endpoint: endpoint, StatusCode: resp.StatusCode, Kind: ErrBadResponse, Err: describeDecode(err)}
	}
}

// drain reads what is left of a body, up to limit, and closes it, so the
// connection can be reused.
func drain(body io.ReadCloser, limit int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, limit))
	_ = body.Close()
}

// mapBlock is how many raw records fetchMapped decodes before mapping
// them: a few tens of kB of raw doors, reused for the whole list.
const mapBlock = 256

// fetchMapped reads every page of a list endpoint like fetchList, but maps
// the raw records block by block as they are decoded: conv appends the
// mapped records of raw to out and reports how many it skipped. A long
// list's raw records are never all held at once: for 50,000 doors that is
// 11.6 MB less at the peak of each read.
func fetchMapped[R listItem, D any](ctx context.Context, c *Client, endpoint, rawURL, listKey string, conv func(out []D, raw []R) ([]D, int)) ([]D, error) {
	first := rawURL
	var out []D
	if n := c.sizes.capacity(first); n > 0 {
		out = make([]D, 0, n)
	}
	block := make([]R, 0, mapBlock)
	skipped := 0
	for page := 1; ; page++ {
		var next string
		var from *url.URL
		// The pages before this one; a retried page starts here again.
		done, doneSkipped := len(out), skipped
		err := c.get(ctx, endpoint, rawURL, func(resp *http.Response, body io.Reader) error {
			out, skipped = out[:done], doneSkipped
			flush := func(raw []R) []R {
				// Doubled, not grown by append's quarter at a time: a
				// first read of 50,000 doors would allocate its records
				// about five times over.
				if cap(out)-len(out) < len(raw) {
					out = slices.Grow(out, max(len(raw), len(out)))
				}
				var n int
				out, n = conv(out, raw)
				skipped += n
				clear(raw)
				return raw[:0]
			}
			rest, link, err := decodeListFlushing(body, listKey, block[:0], flush, &c.buffers)
			if err != nil {
				return err
			}
			flush(rest)
			next, from = link, resp.Request.URL
			return nil
		})
		if err != nil {
			return nil, err
		}
		if next == "" {
			c.sizes.remember(first, len(out))
			c.skipped(endpoint, skipped)
			return out, nil
		}
		if page >= c.maxPages {
			return nil, &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: errors.New("more pages than the configured maximum")}
		}
		if rawURL, err = c.nextURL(from, next); err != nil {
			return nil, &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: err}
		}
	}
}

// fetchList reads every page of a list endpoint into raw records.
func fetchList[T listItem](ctx context.Context, c *Client, endpoint, rawURL, listKey string) ([]T, error) {
	first := rawURL
	var items []T
	if n := c.sizes.capacity(first); n > 0 {
		items = make([]T, 0, n)
	}
	for page := 1; ; page++ {
		var next string
		var from *url.URL
		done := items // the pages before this one; a retried page starts here again
		err := c.get(ctx, endpoint, rawURL, func(resp *http.Response, body io.Reader) error {
			var err error
			items, next, err = decodeListFlushing(body, listKey, done, nil, &c.buffers)
			from = resp.Request.URL
			return err
		})
		if err != nil {
			return nil, err
		}
		if next == "" {
			c.sizes.remember(first, len(items))
			return items, nil
		}
		if page >= c.maxPages {
			return nil, &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: errors.New("more pages than the configured maximum")}
		}
		if rawURL, err = c.nextURL(from, next); err != nil {
			return nil, &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: err}
		}
	}
}

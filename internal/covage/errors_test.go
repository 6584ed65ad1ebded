package covage

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// secret is a credential the upstream echoes in its error bodies; it must
// never reach an error string.
const secret = "tok-s3cret-value"

func TestStatusErrors(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name           string
		status         int
		header         map[string]string
		body           string
		wantKind       error
		wantStatus     int
		wantRetryAfter time.Duration // checked within a second for HTTP dates
		wantText       string
	}{
		{name: "404", status: 404, body: `{"detail":"Not found."}`, wantKind: ErrNotFound, wantStatus: 404, wantText: "covage project: not found: status 404"},
		{name: "401", status: 401, body: `{"detail":"invalid token ` + secret + `"}`, wantKind: ErrUnauthenticated, wantStatus: 401, wantText: "covage project: unauthenticated: status 401"},
		{name: "403", status: 403, body: secret, wantKind: ErrUnauthenticated, wantStatus: 403, wantText: "covage project: unauthenticated: status 403"},
		{
			name: "429 with seconds", status: 429, header: map[string]string{"Retry-After": "7"},
			wantKind: ErrRateLimited, wantStatus: 429, wantRetryAfter: 7 * time.Second,
			wantText: "covage project: rate limited: status 429 (retry after 7s)",
		},
		{name: "429 with date", status: 429, header: map[string]string{"Retry-After": httpDate}, wantKind: ErrRateLimited, wantStatus: 429, wantRetryAfter: 90 * time.Second},
		{name: "429 without header", status: 429, wantKind: ErrRateLimited, wantStatus: 429},
		{name: "429 with garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, wantKind: ErrRateLimited, wantStatus: 429},
		{name: "500", status: 500, body: "<html>" + secret + "</html>", wantKind: ErrUnavailable, wantStatus: 500, wantText: "covage project: upstream failure: status 500"},
		{name: "502 ignores Retry-After", status: 502, header: map[string]string{"Retry-After": "5"}, wantKind: ErrUnavailable, wantStatus: 502},
		{
			name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "3"},
			wantKind: ErrUnavailable, wantStatus: 503, wantRetryAfter: 3 * time.Second,
			wantText: "covage project: upstream failure: status 503 (retry after 3s)",
		},
		{name: "400", status: 400, body: `{"active":["Must be a valid boolean."]}`, wantKind: ErrBadResponse, wantStatus: 400, wantText: "covage project: bad response: status 400"},
		{name: "418", status: 418, wantKind: ErrBadResponse, wantStatus: 418},
		{name: "304", status: 304, wantKind: ErrBadResponse, wantStatus: 304},
		{name: "broken json", status: 200, body: `[{"code":"A",`, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "syntax error", status: 200, body: `[{"code" "A"}]`, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "html", status: 200, body: `<html>` + secret, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "empty body", status: 200, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "object without list", status: 200, body: `{"detail":"` + secret + `"}`, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "string", status: 200, body: `"hello"`, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "list of strings", status: 200, body: `["a"]`, wantKind: ErrBadResponse, wantStatus: 200},
		{name: "results not a list", status: 200, body: `{"results":{"code":"A"}}`, wantKind: ErrBadResponse, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t)
			u.handle("project", func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := newClient(t, u, func(c *Config) { c.Auth = StaticToken(secret) })
			got, err := c.Projects(context.Background(), domain.ProjectFilter{Code: ptr("FLASH")})
			require.Nil(t, got)
			require.ErrorIs(t, err, tt.wantKind)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, EndpointProject, e.Endpoint)
			require.Equal(t, tt.wantStatus, e.StatusCode)
			require.Equal(t, tt.wantKind, e.Kind)
			// An HTTP date has whole seconds, so the wait it gives is up to 1 s
			// short before the request even starts; the other second is the
			// loaded machine's.
			require.InDelta(t, tt.wantRetryAfter, e.RetryAfter, float64(2*time.Second))
			for _, other := range []error{ErrNotFound, ErrUnauthenticated, ErrRateLimited, ErrUnavailable, ErrBadResponse, ErrTimeout} {
				if other != tt.wantKind {
					require.NotErrorIs(t, err, other)
				}
			}
			msg := err.Error()
			if tt.wantText != "" {
				require.Equal(t, tt.wantText, msg)
			}
			require.True(t, strings.HasPrefix(msg, "covage project: "), msg)
			require.Equal(t, strings.ToLower(msg), msg, "error text is lower case")
			require.NotContains(t, msg, secret)
			require.NotContains(t, msg, "FLASH", "no URL in the error text")
			require.Equal(t, 1, u.count("project"), "no retry")
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{" 120 ", 2 * time.Minute},
		{"99999999999999999", maxRetryAfter},
		{"Wed, 01 May 2024 12:00:30 GMT", 30 * time.Second},
		{"Wed, 01 May 2024 11:00:00 GMT", 0},
		{"Thu, 01 May 2025 12:00:00 GMT", maxRetryAfter},
		{"1.5", 0},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, parseRetryAfter(tt.in, now))
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	const timeout = 50 * time.Millisecond
	// wait blocks until the client gives up, or for long enough to fail the test.
	wait := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		ctx       func() (context.Context, context.CancelFunc)
		wantKind  error
		wantAlso  error
		wantNotIs error
	}{
		{
			name: "connection dropped mid-body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
				_, _ = buf.WriteString(`[{"code":"A","active":true},{"code":"B",`)
				_ = buf.Flush()
			},
			wantKind: ErrUnavailable, wantNotIs: ErrBadResponse,
		},
		{
			name: "chunked body dropped mid-way",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
				_, _ = buf.WriteString("10\r\n[{\"code\":\"A\"},{\"\r\n")
				_ = buf.Flush()
			},
			wantKind: ErrUnavailable, wantNotIs: ErrBadResponse,
		},
		{
			name: "connection closed before any response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				_ = conn.Close()
			},
			wantKind: ErrUnavailable,
		},
		{
			name:     "slow headers hit Config.Timeout",
			handler:  func(w http.ResponseWriter, r *http.Request) { wait(r) },
			wantKind: ErrTimeout, wantAlso: context.DeadlineExceeded, wantNotIs: ErrUnavailable,
		},
		{
			name: "slow body hits Config.Timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`[{"code":"A"},`))
				_ = http.NewResponseController(w).Flush()
				wait(r)
			},
			wantKind: ErrTimeout, wantAlso: context.DeadlineExceeded, wantNotIs: ErrUnavailable,
		},
		{
			name:    "caller deadline",
			handler: func(w http.ResponseWriter, r *http.Request) { wait(r) },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), timeout)
			},
			wantKind: ErrTimeout, wantAlso: context.DeadlineExceeded,
		},
		{
			name:    "caller cancels",
			handler: func(w http.ResponseWriter, r *http.Request) { wait(r) },
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(timeout, cancel)
				return ctx, cancel
			},
			wantKind: context.Canceled, wantNotIs: ErrTimeout,
		},
		{
			name:    "caller cancelled before the call",
			handler: func(w http.ResponseWriter, r *http.Request) { t.Error("no call expected") },
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			wantKind: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t)
			u.handle("project", tt.handler)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			clientTimeout := timeout
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
				clientTimeout = 5 * time.Second // the caller's ctx must be what stops the call
			}
			defer cancel()
			c := newClient(t, u, func(c *Config) {
				c.Timeout = clientTimeout
				c.Auth = StaticToken(secret)
			})
			start := time.Now()
			_, err := c.Projects(ctx, domain.ProjectFilter{})
			require.Less(t, time.Since(start), time.Second, "the call must stop promptly")
			require.ErrorIs(t, err, tt.wantKind)
			if tt.wantAlso != nil {
				require.ErrorIs(t, err, tt.wantAlso)
			}
			if tt.wantNotIs != nil {
				require.NotErrorIs(t, err, tt.wantNotIs)
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, EndpointProject, e.Endpoint)
			require.Equal(t, tt.wantKind, e.Kind)
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, err.Error(), "http://")
		})
	}
}

func TestBodyLimit(t *testing.T) {
	body := &bodyReader{r: strings.NewReader(`[{"code":"A"},{"code":"B"}]`), left: 10}
	_, _, err := decodeList[rawProject](body, "", nil)
	require.Error(t, err)
	require.ErrorIs(t, body.err, errBodyTooLarge)
	e := transportError(EndpointProject, context.Background(), nil, body.err)
	require.ErrorIs(t, e, ErrBadResponse)

	exact := `[{"code":"A"}]`
	body = &bodyReader{r: strings.NewReader(exact), left: int64(len(exact))}
	items, _, err := decodeList[rawProject](body, "", nil)
	require.NoError(t, err)
	require.Len(t, items, 1)
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Endpoint: EndpointProject, StatusCode: 503, Kind: ErrUnavailable}, "covage project: upstream failure: status 503"},
		{&Error{Endpoint: EndpointEnni, Kind: ErrTimeout, Err: context.DeadlineExceeded}, "covage enni: timeout: context deadline exceeded"},
		{&Error{Endpoint: EndpointEnni, StatusCode: 200, Kind: ErrBadResponse, Err: errors.New("unexpected eof")}, "covage enni: bad response: unexpected eof"},
		{&Error{Endpoint: EndpointChangeReason, Kind: context.Canceled}, "covage change_reason: context canceled"},
		{&Error{Kind: ErrNotFound}, "covage: not found"},
		{&Error{Endpoint: EndpointBusiness}, "covage business_code: error"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
	require.Equal(t, "covage: not found", ErrNotFound.Error())
	require.Empty(t, (&Error{}).Unwrap())
}

func TestCancelCause(t *testing.T) {
	u := newUpstream(t)
	u.handle("project", serve(200, []byte(`[]`)))
	c := newClient(t, u)
	cause := errors.New("request abandoned by the resolver")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err := c.Projects(ctx, domain.ProjectFilter{})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, cause)
}

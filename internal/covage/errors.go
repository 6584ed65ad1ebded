package covage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/oauth2"
)

// kind is the type of the sentinel errors. Its own text is short so that
// Error.Error can embed it after the endpoint name.
type kind string

func (k kind) Error() string { return "covage: " + string(k) }

// Sentinel errors, one per way a call can fail. Every error returned by a
// Client method is an *Error whose Kind is one of these (or context.Canceled
// when the caller cancelled), so errors.Is works on the returned error.
var (
	// ErrNotFound reports a 404: the billing site (or the route) does not exist.
	ErrNotFound error = kind("not found")
	// ErrUnauthenticated reports a 401 or 403 from Covage, or a failure to
	// obtain a token from the token endpoint.
	ErrUnauthenticated error = kind("unauthenticated")
	// ErrRateLimited reports a 429; Error.RetryAfter says when to try again.
	ErrRateLimited error = kind("rate limited")
	// ErrUnavailable reports a 5xx or a network failure, including a
	// connection dropped while the body was being read.
	ErrUnavailable error = kind("upstream failure")
	// ErrBadResponse reports an answer this client cannot use: a body that
	// does not decode, an unexpected shape or status, a pagination link or
	// redirect to another host, or more pages than Config.MaxPages.
	ErrBadResponse error = kind("bad response")
	// ErrTimeout reports that the per-call timeout or the caller's deadline
	// expired.
	ErrTimeout error = kind("timeout")
)

// Error is the error every Client method returns. Its text never carries a
// credential, a request header, an upstream body or a URL with userinfo.
type Error struct {
	// Endpoint is the endpoint name, one of the Endpoint constants.
	Endpoint string
	// StatusCode is Covage's HTTP status, or 0 when there was no response
	// (network failure, timeout, token endpoint failure).
	StatusCode int
	// RetryAfter is Covage's Retry-After on a 429 or 503, zero otherwise.
	RetryAfter time.Duration
	// Kind is one of the sentinel errors, or context.Canceled.
	Kind error
	// Err is the underlying cause, already stripped of URLs and bodies.
	Err error
}

// Error reads like "covage project: upstream failure: status 503".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("covage")
	if e.Endpoint != "" {
		b.WriteString(" ")
		b.WriteString(e.Endpoint)
	}
	b.WriteString(": ")
	switch k := e.Kind.(type) {
	case kind:
		b.WriteString(string(k))
	case nil:
		b.WriteString("error")
	default:
		b.WriteString(k.Error())
	}
	// A 2xx status only says the failure came later (in the body), which the
	// cause explains better.
	if e.StatusCode != 0 && (e.StatusCode < 200 || e.StatusCode > 299) {
		b.WriteString(": status ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err, so errors.Is matches the sentinel as well as
// causes such as context.DeadlineExceeded.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Internal causes, matched with errors.Is when classifying.
var (
	errBodyTooLarge     = errors.New("response body too large")
	errRedirectHost     = errors.New("redirect to another host refused")
	errTooManyRedirects = errors.New("stopped after 10 redirects")
)

// statusError classifies a non-2xx response from Covage.
func statusError(endpoint string, resp *http.Response, now time.Time) *Error {
	e := &Error{Endpoint: endpoint, StatusCode: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		e.Kind = ErrNotFound
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = ErrUnauthenticated
	case code == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	case code >= 500:
		e.Kind = ErrUnavailable
		if code == http.StatusServiceUnavailable {
			e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		}
	default:
		e.Kind = ErrBadResponse
	}
	return e
}

// maxRetryAfter bounds Retry-After so a hostile value cannot overflow or
// park a caller for days.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP-date. Bad or
// past values give zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), maxRetryAfter)
}

// contextError reports a cancelled or expired context, checking the
// caller's ctx first so that its own cancellation is reported as such, then
// callCtx, which carries the per-call timeout. It returns nil when neither is
// done.
func contextError(endpoint string, ctx, callCtx context.Context) *Error {
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &Error{Endpoint: endpoint, Kind: ErrTimeout, Err: err}
		}
		e := &Error{Endpoint: endpoint, Kind: context.Canceled}
		if cause := context.Cause(ctx); cause != nil && cause != err {
			e.Err = cause
		}
		return e
	}
	if callCtx != nil && callCtx.Err() != nil {
		return &Error{Endpoint: endpoint, Kind: ErrTimeout, Err: context.DeadlineExceeded}
	}
	return nil
}

// transportError classifies a failure to get or read a response.
func transportError(endpoint string, ctx, callCtx context.Context, err error) *Error {
	if e := contextError(endpoint, ctx, callCtx); e != nil {
		return e
	}
	err = sanitize(err)
	switch {
	case errors.Is(err, errBodyTooLarge), errors.Is(err, errRedirectHost), errors.Is(err, errTooManyRedirects):
		return &Error{Endpoint: endpoint, Kind: ErrBadResponse, Err: err}
	case isTimeout(err):
		return &Error{Endpoint: endpoint, Kind: ErrTimeout, Err: err}
	default:
		return &Error{Endpoint: endpoint, Kind: ErrUnavailable, Err: err}
	}
}

// tokenError classifies a failure to obtain a token. Apart from timeouts and
// cancellation it is always ErrUnauthenticated, and its cause is rebuilt from
// safe parts only: oauth2's own errors quote the token endpoint's body, which
// may echo the username or password.
func tokenError(endpoint string, ctx, callCtx context.Context, err error) *Error {
	if e := contextError(endpoint, ctx, callCtx); e != nil {
		return e
	}
	if isTimeout(err) {
		return &Error{Endpoint: endpoint, Kind: ErrTimeout, Err: errors.New("token endpoint timed out")}
	}
	var cause error
	var re *oauth2.RetrieveError
	var ue *url.Error
	switch {
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if isOAuthErrorCode(re.ErrorCode) {
			cause = fmt.Errorf("token endpoint: status %d (%s)", status, re.ErrorCode)
		} else {
			cause = fmt.Errorf("token endpoint: status %d", status)
		}
	case errors.As(err, &ue):
		cause = fmt.Errorf("token endpoint: %w", sanitize(ue))
	default:
		cause = errors.New("token endpoint: unusable response")
	}
	return &Error{Endpoint: endpoint, Kind: ErrUnauthenticated, Err: cause}
}

// isOAuthErrorCode reports whether s looks like an RFC 6749 error code
// (invalid_grant, unauthorized_client...), the only part of a token error
// body safe to quote.
func isOAuthErrorCode(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// decodeError words a decoding failure in lower case and without Go type
// names, keeping the original for errors.Is and errors.As.
type decodeError struct {
	msg string
	err error
}

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return e.err }

func describeDecode(err error) error {
	var syntax *jsontext.SyntacticError
	var typ *typeError
	switch {
	case errors.Is(err, errShape):
		return err
	case err == io.EOF:
		return &decodeError{msg: "empty body", err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{msg: "truncated json", err: err}
	case errors.As(err, &syntax):
		return &decodeError{msg: fmt.Sprintf("invalid json at offset %d", syntax.ByteOffset), err: err}
	case errors.As(err, &typ):
		return &decodeError{msg: fmt.Sprintf("unexpected json %s at offset %d", typ.value, typ.offset), err: err}
	default:
		return &decodeError{msg: "undecodable body", err: err}
	}
}

// sanitize drops the URL that *url.Error puts in its message, keeping the
// operation and the cause (which errors.Is still reaches).
func sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// isTimeout reports a deadline or a network timeout anywhere in err's chain.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

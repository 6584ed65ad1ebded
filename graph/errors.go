package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/loaders"
)

// Error codes in extensions.code. They are part of the public contract:
// clients branch on them, so they never change meaning.
const (
	CodeUnauthenticated     = "UNAUTHENTICATED"
	CodeUpstreamTimeout     = "UPSTREAM_TIMEOUT"
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamBadResponse = "UPSTREAM_BAD_RESPONSE"
	CodeUpstreamNotFound    = "UPSTREAM_NOT_FOUND"
	CodeRateLimited         = "RATE_LIMITED"
	CodeCancelled           = "REQUEST_CANCELLED"
	CodeInternal            = "INTERNAL_SERVER_ERROR"
	// CodeBadUserInput refuses a connection's paging arguments or cursor
	// (graph/connection.go).
	CodeBadUserInput = "BAD_USER_INPUT"
)

// upstreamCodes maps the covage client's error kinds to public codes.
var upstreamCodes = []struct {
	kind error
	code string
	msg  string
}{
	{covage.ErrUnauthenticated, CodeUnauthenticated, "Covage refused the gateway's credentials"},
	{covage.ErrTimeout, CodeUpstreamTimeout, "Covage did not answer in time"},
	{covage.ErrRateLimited, CodeRateLimited, "Covage is rate limiting requests"},
	{covage.ErrUnavailable, CodeUpstreamUnavailable, "Covage is unavailable"},
	{covage.ErrBadResponse, CodeUpstreamBadResponse, "Covage sent a response the gateway could not read"},
	{covage.ErrNotFound, CodeUpstreamNotFound, "Covage has no such resource"},
}

// NewErrorPresenter returns the error presenter: every error gets a stable
// extensions.code and the field's path; upstream failures get a message that
// says what happened without echoing upstream bodies, and anything
// unexpected is logged and shown as a generic internal error.
func NewErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var gqlOwn *gqlerror.Error
		if errors.As(err, &gqlOwn) && gqlOwn.Err == nil {
			// Parse, validation and resolver-built errors: already public.
			return gqlErr
		}
		if code, msg, ok := classify(err); ok {
			gqlErr.Message = msg
			setExtension(gqlErr, "code", code)
			var ce *covage.Error
			if errors.As(err, &ce) {
				setExtension(gqlErr, "endpoint", ce.Endpoint)
				if ce.RetryAfter > 0 {
					setExtension(gqlErr, "retryAfter", int(math.Ceil(ce.RetryAfter.Seconds())))
				}
			}
			return gqlErr
		}
		var pe *loaders.PanicError
		switch {
		case errors.As(err, &pe) && pe.FirstReport():
			log.ErrorContext(ctx, "panic in request work", "panic", fmt.Sprint(pe.Value), "path", gqlErr.Path.String(), "stack", string(pe.Stack))
		case pe != nil:
			log.ErrorContext(ctx, "panic in request work (stack logged once)", "panic", fmt.Sprint(pe.Value), "path", gqlErr.Path.String())
		default:
			log.ErrorContext(ctx, "unexpected resolver error", "error", err, "path", gqlErr.Path.String())
		}
		gqlErr.Message = "internal server error"
		setExtension(gqlErr, "code", CodeInternal)
		return gqlErr
	}
}

// classify names the public code of an error from the layers below.
func classify(err error) (code, msg string, ok bool) {
	for _, c := range upstreamCodes {
		if errors.Is(err, c.kind) {
			return c.code, c.msg, true
		}
	}
	if errors.Is(err, context.Canceled) {
		return CodeCancelled, "the request was cancelled", true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeUpstreamTimeout, "the request ran out of time", true
	}
	return "", "", false
}

func setExtension(e *gqlerror.Error, key string, v any) {
	if e.Extensions == nil {
		e.Extensions = make(map[string]any, 2)
	}
	e.Extensions[key] = v
}

// NewRecoverFunc returns the recover func: a panic in a resolver is logged
// with its stack and answered with a generic internal error, and the server
// goes on serving.
func NewRecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &gqlerror.Error{
			Message:    "internal server error",
			Extensions: map[string]any{"code": CodeInternal},
		}
	}
}

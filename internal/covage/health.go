package covage

import (
	"context"
	"errors"
)

// CheckAuth reports whether the client can authenticate: with the OAuth2
// password grant it obtains a token (reusing a valid cached one); a static
// token or no Auth needs no call. Readiness checks use it; its errors are
// *Error values that carry no credential.
func (c *Client) CheckAuth(ctx context.Context) error {
	_, _, err := c.credentials(ctx, "token")
	return err
}

// VerifyBearer asks Covage whether the bearer token carried by ctx
// (WithBearer) is accepted, with one small uncached call (the terminate
// reasons). It returns nil when it is, an error of kind ErrUnauthenticated
// when Covage refuses it, and another kind when Covage could not say.
func (c *Client) VerifyBearer(ctx context.Context) error {
	if _, ok := bearerFrom(ctx); !ok {
		return &Error{Endpoint: EndpointTerminateReason, Kind: ErrUnauthenticated, Err: errNoBearer}
	}
	_, err := c.TerminateReasons(ctx)
	return err
}

var errNoBearer = errors.New("no bearer token to verify")

package covage

import "context"

// CheckAuth reports whether the client can authenticate: with the OAuth2
// password grant it obtains a token (reusing a valid cached one); a static
// token or no Auth needs no call. Readiness checks use it; its errors are
// *Error values that carry no credential.
func (c *Client) CheckAuth(ctx context.Context) error {
	_, _, err := c.credentials(ctx, "token")
	return err
}

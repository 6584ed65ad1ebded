package covage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/covage/gateway/internal/domain"
)

// Paths are sent as documented: project and business_code without a
// trailing slash, the others with one. Redirects that add or drop the slash
// are followed.

// Projects lists the customer's projects.
func (c *Client) Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error) {
	raw, err := fetchList[rawProject](ctx, c, EndpointProject, c.endpointURL("project", ProjectQuery(f)), "")
	if err != nil {
		return nil, err
	}
	return c.projects(raw), nil
}

// Ennis lists the customer's collection doors.
func (c *Client) Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error) {
	doors, err := fetchMapped(ctx, c, EndpointEnni, c.endpointURL("enni/", EnniQuery(f)), "", c.doorMapper())
	if err != nil {
		return nil, err
	}
	return enniPointers(doors), nil
}

// Businesses lists the customer's businesses (affaires).
func (c *Client) Businesses(ctx context.Context) ([]*domain.Business, error) {
	raw, err := fetchList[rawBusiness](ctx, c, EndpointBusiness, c.endpointURL("business_code", nil), "")
	if err != nil {
		return nil, err
	}
	return c.businesses(raw), nil
}

// BillingSite fetches one billing site. An unknown code gives an error
// wrapping ErrNotFound.
func (c *Client) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	// "." and ".." would escape the path segment; no site has such a code.
	if strings.TrimSpace(code) == "" || code == "." || code == ".." {
		return nil, &Error{Endpoint: EndpointBillingSite, Kind: ErrNotFound, Err: errors.New("invalid billing site code")}
	}
	var raw rawBillingSite
	err := c.get(ctx, EndpointBillingSite, c.endpointURL("billing_site/"+url.PathEscape(code)+"/", nil),
		func(_ *http.Response, body io.Reader) error {
			raw = rawBillingSite{} // a retried attempt starts afresh
			return decodeObject(body, &raw)
		})
	if err != nil {
		return nil, err
	}
	site := &domain.BillingSite{Code: raw.Code.s, Description: raw.Description.ptr()}
	if !raw.Code.present() {
		// The site was asked for by code, so a body without it is still
		// that site.
		site.Code = code
		c.unknown(driftMissingKey, EndpointBillingSite)
	}
	return site, nil
}

// TerminateReasons lists the reasons accepted by a termination request.
func (c *Client) TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error) {
	labels, err := fetchList[text](ctx, c, EndpointTerminateReason, c.endpointURL("terminate_reason/", nil), "terminate_reasons")
	if err != nil {
		return nil, err
	}
	return mapReasons(c, EndpointTerminateReason, labels, terminateReasonCodes,
		func(code *domain.TerminateReasonCode, label string) domain.TerminateReason {
			return domain.TerminateReason{Code: code, Label: label}
		}), nil
}

// ChangeReasons lists the reasons accepted by a change request.
func (c *Client) ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error) {
	labels, err := fetchList[text](ctx, c, EndpointChangeReason, c.endpointURL("change_reason/", nil), "change_reasons")
	if err != nil {
		return nil, err
	}
	return mapReasons(c, EndpointChangeReason, labels, changeReasonCodes,
		func(code *domain.ChangeReasonCode, label string) domain.ChangeReason {
			return domain.ChangeReason{Code: code, Label: label}
		}), nil
}

// SiteConnectionTypes lists the values of a quote item's site connection type.
func (c *Client) SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error) {
	labels, err := fetchList[text](ctx, c, EndpointSiteConnection, c.endpointURL("site_connection/", nil), "available_site_connection_types")
	if err != nil {
		return nil, err
	}
	return mapReasons(c, EndpointSiteConnection, labels, siteConnectionCodes,
		func(code *domain.SiteConnectionTypeCode, label string) domain.SiteConnectionType {
			return domain.SiteConnectionType{Code: code, Label: label}
		}), nil
}

// ProjectQuery is the upstream query string for a project filter. Callers
// that key caches by filter use it too, so a key always names exactly the
// call Covage receives.
func ProjectQuery(f domain.ProjectFilter) url.Values {
	q := url.Values{}
	setString(q, "code", f.Code)
	setBool(q, "active", f.Active)
	return q
}

// EnniQuery is the upstream query string for a collection door filter.
func EnniQuery(f domain.EnniFilter) url.Values {
	q := url.Values{}
	setString(q, "reference", f.Reference)
	setString(q, "name", f.Name)
	setString(q, "short_name", f.ShortName)
	setBool(q, "active", f.Active)
	if f.Offer != nil {
		q.Set("offer", string(*f.Offer))
	}
	setString(q, "dsp", f.Dsp)
	setString(q, "delivery_mode", f.DeliveryMode)
	return q
}

func setString(q url.Values, key string, v *string) {
	if v != nil {
		q.Set(key, *v)
	}
}

func setBool(q url.Values, key string, v *bool) {
	if v == nil {
		return
	}
	if *v {
		q.Set(key, "true")
	} else {
		q.Set(key, "false")
	}
}

// Package domain holds the gateway's plain Go types: the reference data that
// Covage serves, already mapped from its REST shapes. The GraphQL layer binds
// to these types directly (gqlgen autobind) and the loaders return them, so
// every dependency points down to this package and it imports none of ours.
package domain

import "time"

// Project is an ongoing commercial project with Covage's sales teams.
type Project struct {
	Code      string
	Active    bool
	StartDate *Date
	EndDate   *Date
	// ClientCode is upstream's code_client, the same value as Enni.ShortName.
	ClientCode *string
}

// ID returns the project's opaque global ID.
func (p *Project) ID() string { return NewID(KindProject, p.Code) }

// Enni is a collection door (ENNI) owned by the customer.
type Enni struct {
	Code         *string
	Name         *string
	ShortName    *string
	Reference    string
	Label        *string
	Offer        *Offer
	Dsp          *string
	DeliveryMode *string
	Active       bool
}

// ID returns the door's opaque global ID.
func (e *Enni) ID() string { return NewID(KindEnni, e.Reference) }

// Business is an ongoing business (affaire) with Covage's sales teams.
type Business struct {
	Code             string
	Label            *string
	ModificationDate *time.Time
	ValidityEndDate  *time.Time
	Status           *int
}

// ID returns the business's opaque global ID.
func (b *Business) ID() string { return NewID(KindBusiness, b.Code) }

// BillingSite is a billing site, fetched one code at a time.
type BillingSite struct {
	Code        string
	Description *string
}

// ID returns the billing site's opaque global ID.
func (b *BillingSite) ID() string { return NewID(KindBillingSite, b.Code) }

// TerminateReason is a reason accepted by an order termination request.
type TerminateReason struct {
	// Code is nil when upstream sends a label this gateway does not know yet.
	Code *TerminateReasonCode
	// Label is the exact upstream string, the value to send back to Covage.
	Label string
}

// ChangeReason is a reason accepted by an order change request.
type ChangeReason struct {
	Code  *ChangeReasonCode
	Label string
}

// SiteConnectionType is a value for a quote item's site_connection_type.
type SiteConnectionType struct {
	Code  *SiteConnectionTypeCode
	Label string
}

// ProjectFilter narrows the project list; nil fields do not filter.
type ProjectFilter struct {
	Code   *string
	Active *bool
}

// EnniFilter narrows the collection door list; nil fields do not filter.
type EnniFilter struct {
	Reference    *string
	Name         *string
	ShortName    *string
	Active       *bool
	Offer        *Offer
	Dsp          *string
	DeliveryMode *string
}

// Node is an object with a global ID (Relay's Node interface).
type Node interface {
	ID() string
}

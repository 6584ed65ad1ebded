package domain

import (
	"fmt"
	"io"
	"strconv"
)

// Offer is a collection door's offer type.
type Offer string

// Offers Covage sells.
const (
	OfferBPE  Offer = "BPE"
	OfferBPEA Offer = "BPEA"
)

// TerminateReasonCode is the stable code of a termination reason.
type TerminateReasonCode string

// Termination reasons known to the schema.
const (
	TerminateBusinessClosure              TerminateReasonCode = "BUSINESS_CLOSURE"
	TerminateInfrastructureOperatorChange TerminateReasonCode = "INFRASTRUCTURE_OPERATOR_CHANGE"
	TerminateMoveWithoutCovageLink        TerminateReasonCode = "MOVE_WITHOUT_COVAGE_LINK"
	TerminateMoveWithCovageLink           TerminateReasonCode = "MOVE_WITH_COVAGE_LINK"
	TerminateOther                        TerminateReasonCode = "OTHER"
)

// ChangeReasonCode is the stable code of a change reason.
type ChangeReasonCode string

// Change reasons known to the schema.
const (
	ChangeUpgrade              ChangeReasonCode = "UPGRADE"
	ChangeDowngrade            ChangeReasonCode = "DOWNGRADE"
	ChangeCollectionDoorChange ChangeReasonCode = "COLLECTION_DOOR_CHANGE"
	ChangeServiceOptionsChange ChangeReasonCode = "SERVICE_OPTIONS_CHANGE"
	ChangeOther                ChangeReasonCode = "OTHER"
)

// SiteConnectionTypeCode is the stable code of a site connection type.
type SiteConnectionTypeCode string

// Site connection types known to the schema.
const (
	SiteStandard       SiteConnectionTypeCode = "STANDARD"
	SiteShoppingCenter SiteConnectionTypeCode = "SHOPPING_CENTER"
	SiteDatacenter     SiteConnectionTypeCode = "DATACENTER"
	SiteBusinessPark   SiteConnectionTypeCode = "BUSINESS_PARK"
	SiteAirport        SiteConnectionTypeCode = "AIRPORT"
	SiteMaritimeZone   SiteConnectionTypeCode = "MARITIME_ZONE"
	SiteHealthCenter   SiteConnectionTypeCode = "HEALTH_CENTER"
	SiteHighSecurity   SiteConnectionTypeCode = "HIGH_SECURITY"
	SiteHeritage       SiteConnectionTypeCode = "HERITAGE"
	SitePrison         SiteConnectionTypeCode = "PRISON"
	SiteCemetery       SiteConnectionTypeCode = "CEMETERY"
)

// Offers lists every Offer value.
var Offers = []Offer{OfferBPE, OfferBPEA}

// TerminateReasonCodes lists every TerminateReasonCode value.
var TerminateReasonCodes = []TerminateReasonCode{
	TerminateBusinessClosure, TerminateInfrastructureOperatorChange,
	TerminateMoveWithoutCovageLink, TerminateMoveWithCovageLink, TerminateOther,
}

// ChangeReasonCodes lists every ChangeReasonCode value.
var ChangeReasonCodes = []ChangeReasonCode{
	ChangeUpgrade, ChangeDowngrade, ChangeCollectionDoorChange, ChangeServiceOptionsChange, ChangeOther,
}

// SiteConnectionTypeCodes lists every SiteConnectionTypeCode value.
var SiteConnectionTypeCodes = []SiteConnectionTypeCode{
	SiteStandard, SiteShoppingCenter, SiteDatacenter, SiteBusinessPark, SiteAirport,
	SiteMaritimeZone, SiteHealthCenter, SiteHighSecurity, SiteHeritage, SitePrison, SiteCemetery,
}

// The GraphQL enums bind to these types, so each marshals itself the way
// gqlgen's generated enums do: a quoted name out, a known name in.

// MarshalGQL writes the offer as a GraphQL enum value.
func (o Offer) MarshalGQL(w io.Writer) { writeEnum(w, string(o)) }

// UnmarshalGQL reads a GraphQL enum value into the offer.
func (o *Offer) UnmarshalGQL(v any) error { return readEnum(v, o, Offers, "Offer") }

// MarshalGQL writes the code as a GraphQL enum value.
func (c TerminateReasonCode) MarshalGQL(w io.Writer) { writeEnum(w, string(c)) }

// UnmarshalGQL reads a GraphQL enum value into the code.
func (c *TerminateReasonCode) UnmarshalGQL(v any) error {
	return readEnum(v, c, TerminateReasonCodes, "TerminateReasonCode")
}

// MarshalGQL writes the code as a GraphQL enum value.
func (c ChangeReasonCode) MarshalGQL(w io.Writer) { writeEnum(w, string(c)) }

// UnmarshalGQL reads a GraphQL enum value into the code.
func (c *ChangeReasonCode) UnmarshalGQL(v any) error {
	return readEnum(v, c, ChangeReasonCodes, "ChangeReasonCode")
}

// MarshalGQL writes the code as a GraphQL enum value.
func (c SiteConnectionTypeCode) MarshalGQL(w io.Writer) { writeEnum(w, string(c)) }

// UnmarshalGQL reads a GraphQL enum value into the code.
func (c *SiteConnectionTypeCode) UnmarshalGQL(v any) error {
	return readEnum(v, c, SiteConnectionTypeCodes, "SiteConnectionTypeCode")
}

// writeEnum writes an enum value as a JSON string. Enum names are GraphQL
// names ([_A-Za-z][_0-9A-Za-z]*), which need no escaping, so the common case
// writes them between quotes with no allocation; anything else is quoted.
func writeEnum(w io.Writer, name string) {
	if !isName(name) {
		_, _ = io.WriteString(w, strconv.Quote(name))
		return
	}
	_, _ = io.WriteString(w, `"`)
	_, _ = io.WriteString(w, name)
	_, _ = io.WriteString(w, `"`)
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func readEnum[T ~string](v any, dst *T, valid []T, typeName string) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s must be a string", typeName)
	}
	for _, x := range valid {
		if string(x) == s {
			*dst = x
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid %s", s, typeName)
}

package domain

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date, kept as its ISO 8601 text (YYYY-MM-DD) once it has
// been checked, so serving it costs no formatting.
type Date string

// ParseDate checks that s is a calendar date. Upstream sometimes sends a full
// timestamp; its date part is kept.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return Date(s), nil
}

// MarshalGQL writes the date as a GraphQL string.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(d))) }

// UnmarshalGQL reads a YYYY-MM-DD string.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("Date must be a string")
	}
	parsed, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// Kind names the type of object a global ID points to.
type Kind string

// Object kinds that carry a global ID.
const (
	KindProject     Kind = "Project"
	KindEnni        Kind = "Enni"
	KindBusiness    Kind = "Business"
	KindBillingSite Kind = "BillingSite"
)

// NewID builds the opaque global ID of an object: the kind and its key,
// joined and base64url-encoded, so it is stable and needs no lookup table.
func NewID(kind Kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + ":" + key))
}

// ParseID splits a global ID made by NewID. It reports false for anything
// else, so that node(id:) can answer null rather than an error.
func ParseID(id string) (Kind, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", false
	}
	kind, key, ok := strings.Cut(string(raw), ":")
	if !ok || key == "" {
		return "", "", false
	}
	switch k := Kind(kind); k {
	case KindProject, KindEnni, KindBusiness, KindBillingSite:
		return k, key, true
	}
	return "", "", false
}

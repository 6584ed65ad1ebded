package covage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covage/gateway/internal/domain"
)

// text is a JSON scalar kept as text, so that schema drift in a field's type
// (a code sent as a number, a status as a string, active as "true") never
// fails a whole list. Strings keep their value, numbers and booleans their
// literal; null, objects and arrays count as absent.
type text struct {
	s  string
	ok bool
}

// UnmarshalJSON implements json.Unmarshaler. null is a no-op, so that a
// later null duplicate ("code" after "Code") does not erase a value.
func (t *text) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case 'n', '{', '[':
		return nil
	case '"':
		inner := b[1 : len(b)-1]
		// The decoder has already validated the string, so without escapes
		// or invalid UTF-8 the bytes between the quotes are its value.
		if !slices.Contains(inner, '\\') && utf8.Valid(inner) {
			t.s = string(inner)
		} else if err := json.Unmarshal(b, &t.s); err != nil {
			return err
		}
	default:
		t.s = string(b)
	}
	t.ok = true
	return nil
}

// present reports whether the field carries a non-blank value.
func (t *text) present() bool { return t.ok && strings.TrimSpace(t.s) != "" }

// ptr returns a pointer to the value, or nil when absent. It points into the
// raw record, which saves one allocation per field.
func (t *text) ptr() *string {
	if !t.ok {
		return nil
	}
	return &t.s
}

// Raw upstream records. The JSON names live here and nowhere else. Unexported
// fields hold mapped values so that the domain pointers can point into the
// record instead of allocating. encoding/json matches keys case-insensitively,
// which is how Enni's documented "Code" lands in Code.
type (
	rawProject struct {
		Code       text `json:"code"`
		Active     text `json:"active"`
		StartDate  text `json:"start_date"`
		EndDate    text `json:"end_date"`
		ClientCode text `json:"code_client"`

		start, end domain.Date
	}

	rawEnni struct {
		Code         text `json:"code"`
		Name         text `json:"name"`
		ShortName    text `json:"short_name"`
		Reference    text `json:"reference"`
		Label        text `json:"label"`
		Offer        text `json:"offer"`
		Dsp          text `json:"dsp"`
		DeliveryMode text `json:"delivery_mode"`
		Active       text `json:"active"`

		offer domain.Offer
	}

	rawBusiness struct {
		Code             text `json:"code"`
		Label            text `json:"label"`
		ModificationDate text `json:"modification_date"`
		ValidityEndDate  text `json:"validity_end_date"`
		Status           text `json:"status"`

		modified, validUntil time.Time
		status               int
	}

	rawBillingSite struct {
		Code        text `json:"code"`
		Description text `json:"description"`
	}
)

// bodyReader limits a body and remembers why reading it failed, which is how
// a dropped connection (ErrUnavailable) is told apart from a truncated or
// malformed document (ErrBadResponse): json.Decoder reports both as
// io.ErrUnexpectedEOF.
type bodyReader struct {
	r    io.Reader
	left int64
	err  error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.err = errBodyTooLarge
		return 0, b.err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// errShape reports a well-formed document of the wrong shape.
var errShape = errors.New("unexpected document shape")

// maxPrealloc caps the capacity taken on trust from a DRF "count".
const maxPrealloc = 1 << 16

// decodeList reads one page in a single pass and appends its records to
// items. It accepts a bare array, a DRF envelope ({"count","next","results"})
// and, when listKey is set, an object holding the list under that key (the
// reason endpoints). It returns the envelope's next link, "" when there is
// none.
func decodeList[T any](r io.Reader, listKey string, items []T) ([]T, string, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return items, "", err
	}
	switch tok {
	case json.Delim('['):
		items, err = decodeElems(dec, items)
		return items, "", err
	case json.Delim('{'):
	default:
		return items, "", errShape
	}

	var next string
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return items, "", err
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "results") || (listKey != "" && strings.EqualFold(key, listKey)):
			tok, err := dec.Token()
			if err != nil {
				return items, "", err
			}
			switch tok {
			case nil: // "results": null is an empty page.
			case json.Delim('['):
				if items, err = decodeElems(dec, items); err != nil {
					return items, "", err
				}
			default:
				return items, "", fmt.Errorf("%w: %q is not a list", errShape, key)
			}
			found = true
		case strings.EqualFold(key, "next"):
			var link *string
			if err := dec.Decode(&link); err != nil {
				return items, "", fmt.Errorf("%w: next is not a link", errShape)
			}
			if link != nil {
				next = *link
			}
		case strings.EqualFold(key, "count"):
			// A count that is not a number is only a missed optimisation.
			var count any
			if err := dec.Decode(&count); err != nil {
				return items, "", err
			}
			if n, ok := count.(float64); ok {
				if more := int(min(n, maxPrealloc)) - len(items); more > 0 {
					items = slices.Grow(items, more)
				}
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return items, "", err
			}
		}
	}
	if !found {
		return items, "", fmt.Errorf("%w: object without a list", errShape)
	}
	return items, next, nil
}

// decodeElems decodes array elements in place, after the opening '[' and
// through the closing ']'.
func decodeElems[T any](dec *json.Decoder, items []T) ([]T, error) {
	var zero T
	for dec.More() {
		items = append(items, zero)
		if err := dec.Decode(&items[len(items)-1]); err != nil {
			return items, err
		}
	}
	_, err := dec.Token()
	return items, err
}

// decodeObject reads a single JSON object into v.
func decodeObject[T any](r io.Reader, v *T) error {
	var p *T = v
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: null body", errShape)
	}
	return nil
}

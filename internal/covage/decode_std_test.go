package covage

// The encoding/json decoder that decode.go replaced, kept verbatim (renamed)
// as the reference oracle of FuzzDecodeDifferential and as the std side of
// the decoding benchmarks.

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// UnmarshalJSON implements json.Unmarshaler for the oracle. null is a
// no-op, so that a later null duplicate ("code" after "Code") does not erase
// a value.
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

// decodeListStd is the encoding/json decodeList.
func decodeListStd[T any](r io.Reader, listKey string, items []T) ([]T, string, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return items, "", err
	}
	switch tok {
	case json.Delim('['):
		items, err = decodeElemsStd(dec, items)
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
				if items, err = decodeElemsStd(dec, items); err != nil {
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

// decodeElemsStd is the encoding/json decodeElems.
func decodeElemsStd[T any](dec *json.Decoder, items []T) ([]T, error) {
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

// decodeObjectStd is the encoding/json decodeObject.
func decodeObjectStd[T any](r io.Reader, v *T) error {
	var p *T = v
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: null body", errShape)
	}
	return nil
}

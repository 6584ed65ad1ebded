package covage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

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

// decode reads the next value into t. null is a no-op, so that a later null
// duplicate ("code" after "Code") does not erase a value.
func (t *text) decode(d *decoder) error {
	v, err := d.ReadValue()
	if err != nil {
		return err
	}
	if b, ok := appendText(d.buf[:0], v); ok {
		t.s, t.ok = d.strs.keepBytes(b), true
		d.buf = b
	}
	return nil
}

// appendText appends what a text holds of the JSON value v to dst: a
// string's value, as encoding/json decodes it (escapes resolved, invalid
// UTF-8 and unpaired surrogates replaced with U+FFFD), or a number's or
// boolean's literal. It reports false for null, objects and arrays, which
// count as absent.
func appendText(dst []byte, v jsontext.Value) ([]byte, bool) {
	switch v[0] {
	case 'n', '{', '[':
		return dst, false
	case '"':
		if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return append(dst, inner...), true
		}
		// The decoder has validated the string, so the only errors left are
		// the invalid UTF-8 and surrogates that AppendUnquote has replaced.
		dst, _ = jsontext.AppendUnquote(dst, v)
		return dst, true
	}
	return append(dst, v...), true
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

// Raw upstream records. Each one's field method maps the JSON names to its
// fields; the tags give the same names, and a test checks that both agree.
// Unexported fields hold mapped values so that the domain pointers can point
// into the record instead of allocating.
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

// record is a raw record read from a JSON object.
type record interface {
	// field returns the field that the object name key fills, or nil to
	// skip the value. Names are matched exactly; decoder.fold makes an
	// exact match of encoding/json's case-insensitive one.
	field(key []byte) *text
}

// field implements record.
func (r *rawProject) field(key []byte) *text {
	switch string(key) {
	case "code":
		return &r.Code
	case "active":
		return &r.Active
	case "start_date":
		return &r.StartDate
	case "end_date":
		return &r.EndDate
	case "code_client":
		return &r.ClientCode
	}
	return nil
}

// field implements record.
func (r *rawEnni) field(key []byte) *text {
	switch string(key) {
	case "code", "Code": // "Code" as documented and sent, without folding
		return &r.Code
	case "name":
		return &r.Name
	case "short_name":
		return &r.ShortName
	case "reference":
		return &r.Reference
	case "label":
		return &r.Label
	case "offer":
		return &r.Offer
	case "dsp":
		return &r.Dsp
	case "delivery_mode":
		return &r.DeliveryMode
	case "active":
		return &r.Active
	}
	return nil
}

// field implements record.
func (r *rawBusiness) field(key []byte) *text {
	switch string(key) {
	case "code":
		return &r.Code
	case "label":
		return &r.Label
	case "modification_date":
		return &r.ModificationDate
	case "validity_end_date":
		return &r.ValidityEndDate
	case "status":
		return &r.Status
	}
	return nil
}

// field implements record.
func (r *rawBillingSite) field(key []byte) *text {
	switch string(key) {
	case "code":
		return &r.Code
	case "description":
		return &r.Description
	}
	return nil
}

// listItem is an element type that decodeList reads: a record, or a text
// for the reason lists.
type listItem interface {
	text | rawProject | rawEnni | rawBusiness
}

// bodyReader limits a body and remembers why reading it failed, which is how
// a dropped connection (ErrUnavailable) is told apart from a truncated or
// malformed document (ErrBadResponse): the decoder reports both as an
// unexpected end of input.
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

// typeError reports a JSON value of a type its target cannot hold, such as
// a list element that is neither an object nor null.
type typeError struct {
	value  string // "string", "number", "bool", "array", or "number 1e999"
	offset int64  // input offset just after the value
}

func (e *typeError) Error() string {
	return fmt.Sprintf("json %s at offset %d cannot be decoded", e.value, e.offset)
}

// maxPrealloc caps the capacity taken on trust from a DRF "count".
const maxPrealloc = 1 << 16

// decoder reads a document token by token with the leniency of
// encoding/json, which the upstream has always been read with: duplicate
// object names are accepted (the last value wins), and so is invalid UTF-8
// in strings, which decodes as U+FFFD.
type decoder struct {
	*jsontext.Decoder
	buf []byte // scratch for object names and strings

	// src is the body; the Decoder reads it after a prefix of its own when
	// it resumes where the fast path of a list left off (fastlist.go), and
	// shift is then the body's offset of the Decoder's first byte.
	src   io.Reader
	shift int64
	fast  fastList

	// The fields of the record being read, which share one string: vals
	// holds their text, and fields where each one's lies.
	vals   []byte
	fields []pending
	// strs holds the records' strings, many records to a block.
	strs stringBlocks
}

// pending is a record field read but not set yet: its text is
// decoder.vals[start:end].
type pending struct {
	t          *text
	start, end int
}

// newDecoder returns a decoder reading from r.
func newDecoder(r io.Reader) *decoder {
	return &decoder{Decoder: newJSONDecoder(r), src: r}
}

// newJSONDecoder returns a jsontext Decoder with the leniency of
// encoding/json.
func newJSONDecoder(r io.Reader) *jsontext.Decoder {
	return jsontext.NewDecoder(r,
		jsontext.AllowDuplicateNames(true),
		jsontext.AllowInvalidUTF8(true))
}

// offset is the body's offset just after the last value read.
func (d *decoder) offset() int64 { return d.InputOffset() + d.shift }

// at returns err with the offset of a syntax error made one of the body's.
func (d *decoder) at(err error) error {
	if d.shift == 0 || err == nil {
		return err
	}
	if se := (*jsontext.SyntacticError)(nil); errors.As(err, &se) {
		se.ByteOffset += d.shift
	}
	return err
}

// unquote returns the value of the JSON string v, as appendText does.
func (d *decoder) unquote(v jsontext.Value) string {
	d.buf, _ = appendText(d.buf[:0], v)
	return string(d.buf)
}

// fold returns the object name v unescaped and folded so that it equals a
// field name exactly when encoding/json would match the two. Field names are
// lower-case ASCII, and encoding/json matches them exactly, else by Unicode
// simple case folding; so ASCII letters are lower-cased, and the two other
// runes that fold to ASCII, U+017F (ſ) and U+212A (K), become s and k.
// Like encoding/json, it replaces invalid UTF-8 with U+FFFD, which no name
// holds. The result is valid until the next call.
func (d *decoder) fold(v jsontext.Value) []byte {
	d.buf, _ = jsontext.AppendUnquote(d.buf[:0], v)
	b, w := d.buf, 0
	for i := 0; i < len(b); {
		r, n := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(b[i:])
		}
		switch {
		case 'A' <= r && r <= 'Z':
			b[w] = byte(r - 'A' + 'a')
		case r == '\u017f':
			b[w] = 's'
		case r == '\u212a':
			b[w] = 'k'
		default:
			w += copy(b[w:], b[i:i+n])
			i += n
			continue
		}
		w++
		i += n
	}
	return b[:w]
}

// name reads an object name, of kind k from PeekKind. Anything but a string
// is a syntax error at its first byte, as with encoding/json; ReadValue
// would read it whole first, and so might report a truncation instead.
func (d *decoder) name(k jsontext.Kind) (jsontext.Value, error) {
	if k != '"' && k != 0 { // 0 holds the error of PeekKind, for ReadValue
		return nil, &jsontext.SyntacticError{ByteOffset: d.InputOffset(), Err: jsontext.ErrNonStringName}
	}
	return d.ReadValue()
}

// skip skips the next value. ReadValue checks a value byte by byte, as
// encoding/json's scanner does, so a malformed value fails at the same byte
// and for the same reason; SkipValue reads tokens whole and might report a
// truncation instead.
func (d *decoder) skip() error {
	_, err := d.ReadValue()
	return err
}

// skipAny skips the next value as encoding/json decodes one into an any:
// a number out of float64's range, even nested, is a type error. It returns
// the value when it is a number, with ok set.
func (d *decoder) skipAny() (f float64, ok bool, err error) {
	v, err := d.ReadValue()
	if err != nil {
		return 0, false, err
	}
	switch v.Kind() {
	case '0':
		f, err = d.float(v)
		return f, err == nil, err
	case '{', '[':
		// Rare (a count that is an object): walk the value's numbers.
		in := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
		for {
			tok, err := in.ReadToken()
			if err == io.EOF {
				return 0, false, nil
			} else if err != nil {
				return 0, false, err // cannot happen: v is valid
			}
			if tok.Kind() == '0' {
				if _, err := d.float(jsontext.Value(tok.String())); err != nil {
					return 0, false, err
				}
			}
		}
	}
	return 0, false, nil
}

// float parses the JSON number v. One out of float64's range is a type
// error, as with encoding/json.
func (d *decoder) float(v jsontext.Value) (float64, error) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, &typeError{value: "number " + string(v), offset: d.offset()}
	}
	return f, nil
}

// record decodes the next value, of kind k, into r. As with encoding/json,
// an object fills the fields it names, null leaves r as it is, and any
// other value is a type error.
//
// The value is read whole, which checks it byte by byte as reading it
// token by token did, so a malformed record fails at the same byte and for
// the same reason; its fields are then found in the checked text, where a
// plain string is one loop. A decoder call per token made
// BenchmarkDecodeEnnis2000 10-25 % slower.
func (d *decoder) record(k jsontext.Kind, r record) error {
	v, err := d.ReadValue()
	if err != nil {
		return err
	}
	switch k {
	case '{':
	case 'n':
		return nil
	default:
		return &typeError{value: kindName(k), offset: d.offset()}
	}
	d.vals, d.fields = d.vals[:0], d.fields[:0]
	for i := 1; ; {
		i = skipSpace(v, i)
		if v[i] == '}' {
			break
		}
		end, plain := plainString(v, i)
		if !plain {
			end = stringEnd(v, i)
		}
		name := v[i:end]
		i = skipSpace(v, skipSpace(v, end)+1) // past the ':'
		var t *text
		if plain {
			t = r.field(name[1 : len(name)-1])
		}
		if t == nil {
			t = r.field(d.fold(name))
		}
		start := len(d.vals)
		if v[i] == '"' {
			end, plain = plainString(v, i)
			if plain {
				if t != nil {
					d.vals = append(d.vals, v[i+1:end-1]...)
				}
			} else if end = stringEnd(v, i); t != nil {
				d.vals, _ = appendText(d.vals, v[i:end])
			}
		} else if end = valueEnd(v, i); t != nil {
			var ok bool
			if d.vals, ok = appendText(d.vals, v[i:end]); !ok {
				t = nil
			}
		}
		if t != nil {
			d.fields = append(d.fields, pending{t: t, start: start, end: len(d.vals)})
		}
		if i = skipSpace(v, end); v[i] == ',' {
			i++
		}
	}
	d.setFields()
	return nil
}

// setFields sets the fields of the record read, whose strings share a
// block with the records read before it (stringBlocks): an allocation for
// many records rather than one per record, or per field. In order, so
// that the last of duplicate names wins.
func (d *decoder) setFields() {
	vals := d.strs.keepBytes(d.vals)
	for _, f := range d.fields {
		f.t.s, f.t.ok = vals[f.start:f.end], true
	}
	clear(d.fields) // drop the pointers into the records
}

// The scanners below walk JSON text that the decoder has already checked,
// so they look only for where each part ends.

// skipSpace returns the index of the first byte of v at or after i that is
// not JSON white space.
func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\n' || v[i] == '\r' || v[i] == '\t') {
		i++
	}
	return i
}

// plainString returns the index just past the string that starts at v[i],
// and whether the string is plain: printable ASCII without escapes, whose
// text is its bytes. When it is not, the index is of no use.
func plainString(v []byte, i int) (int, bool) {
	for i++; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\' || c >= utf8.RuneSelf:
			return i, false
		}
	}
	return i, false
}

// stringEnd returns the index just past the string that starts at v[i].
func stringEnd(v []byte, i int) int {
	for i++; ; i++ {
		q := bytes.IndexByte(v[i:], '"')
		i += q
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for v[i-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
	}
}

// valueEnd returns the index just past the value that starts at v[i].
func valueEnd(v []byte, i int) int {
	switch v[i] {
	case '"':
		return stringEnd(v, i)
	case '{', '[':
		depth := 0
		for {
			switch v[i] {
			case '"':
				i = stringEnd(v, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(v) {
		switch v[i] {
		case ',', '}', ']', ' ', '\n', '\r', '\t':
			return i
		}
		i++
	}
	return i
}

// kindName names a kind of JSON value in a typeError.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "bool"
	case '[':
		return "array"
	}
	return "value"
}

// decodeList reads one page in a single pass and appends its records to
// items. It accepts a bare array, a DRF envelope ({"count","next","results"})
// and, when listKey is set, an object holding the list under that key (the
// reason endpoints). It returns the envelope's next link, "" when there is
// none. Envelope keys match case-insensitively. Like the json.Decoder it
// replaces, it ignores whatever follows the document and does not check the
// envelope's closing delimiter; unlike it, it reports a document that ends
// before that delimiter as truncated rather than taking it for complete.
func decodeList[T listItem](r io.Reader, listKey string, items []T) ([]T, string, error) {
	return decodeListFlushing(r, listKey, items, nil, nil)
}

// decodeListFlushing is decodeList, handing items to flush whenever they
// fill their capacity; flush returns the slice to go on with. A caller
// that maps records as they come gives back items[:0], and never holds a
// long list's raw records at once. What is left at the end is the
// caller's to flush. bufs, when set, lends the fast path its buffers.
func decodeListFlushing[T listItem](r io.Reader, listKey string, items []T, flush func([]T) []T, bufs *buffers) ([]T, string, error) {
	d := newDecoder(r)
	d.fast.bufs = bufs
	items, next, err := decodeListFrom(d, listKey, items, flush)
	d.fast.release()
	return items, next, d.at(err)
}

// decodeListFrom is decodeListFlushing reading from d, whose errors may
// carry offsets that are not the body's.
func decodeListFrom[T listItem](d *decoder, listKey string, items []T, flush func([]T) []T) ([]T, string, error) {
	switch k := d.PeekKind(); k {
	case '[':
		items, err := decodeElems(d, items, flush, false)
		return items, "", err
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return items, "", err
		}
	default:
		// A malformed value is a syntax error rather than a wrong shape.
		if _, _, err := d.skipAny(); err != nil {
			return items, "", err
		}
		return items, "", errShape
	}

	var next string
	found := false
	for {
		k := d.PeekKind()
		if k == '}' || k == ']' {
			break
		}
		name, err := d.name(k)
		if err != nil {
			return items, "", err
		}
		switch key := d.fold(name); {
		case string(key) == "results" || (listKey != "" && bytes.EqualFold(key, []byte(listKey))):
			key := d.unquote(name) // for the error, before the next read
			switch k := d.PeekKind(); k {
			case 'n': // "results": null is an empty page.
				err = d.skip()
			case '[':
				items, err = decodeElems(d, items, flush, true)
			case '{':
				return items, "", fmt.Errorf("%w: %q is not a list", errShape, key)
			default:
				if _, _, err := d.skipAny(); err != nil {
					return items, "", err
				}
				return items, "", fmt.Errorf("%w: %q is not a list", errShape, key)
			}
			if err != nil {
				return items, "", err
			}
			found = true
		case string(key) == "next":
			v, err := d.ReadValue()
			switch {
			case err != nil || (v.Kind() != '"' && v.Kind() != 'n'):
				return items, "", fmt.Errorf("%w: next is not a link", errShape)
			case v.Kind() == '"':
				next = d.unquote(v)
			}
		case string(key) == "count":
			// A count that is not a number is only a missed optimisation.
			n, ok, err := d.skipAny()
			if err != nil {
				return items, "", err
			}
			if ok {
				if more := int(min(n, maxPrealloc)) - len(items); more > 0 {
					items = slices.Grow(items, more)
				}
			}
		default:
			if err := d.skip(); err != nil {
				return items, "", err
			}
		}
	}
	if !found {
		return items, "", fmt.Errorf("%w: object without a list", errShape)
	}
	return items, next, nil
}

// decodeElems decodes the elements of a list, from its '[' through its ']',
// and appends them to items. Elements that do not fit in items' capacity
// are decoded into blocks that are appended once at the end: growing items
// element by element would copy a long list several times over.
func decodeElems[T listItem](d *decoder, items []T, flush func([]T) []T, inObject bool) ([]T, error) {
	if _, err := d.ReadToken(); err != nil {
		return items, err
	}
	l := elems[T]{items: items, flush: flush}
	var zero T
	_, records := any(&zero).(record)
	first := true // no element read yet
	slow := 0     // elements left to read with d before the fast path again
	declines := 0
	for {
		var v *T
		if records && slow == 0 {
			var read int
			v, read = fastElems(d, &l, &first, inObject)
			// d stands before an element the fast path does not know, or
			// before the list's end, or where the body ended. After a
			// decline, d reads 1, 2, 4 … 256 records before the fast path
			// tries again, unless the fast path read a run of them first:
			// a body of odd records costs few hand-overs, and one odd
			// record in a long list costs one.
			if read >= 16 {
				declines = 0
			}
			declines++
			slow = 1 << min(declines-1, 8)
		}
		k := d.PeekKind()
		if k == ']' {
			break
		}
		if v == nil {
			v = l.slot()
		}
		var err error
		if t, ok := any(v).(*text); ok {
			err = t.decode(d)
		} else {
			err = d.record(k, any(v).(record))
		}
		if err != nil {
			return l.items, err
		}
		first = false
		slow = max(slow-1, 0)
	}
	if _, err := d.ReadToken(); err != nil {
		return l.items, err
	}
	return l.done(), nil
}

// elems is the list of elements decodeElems appends to.
type elems[T listItem] struct {
	items  []T
	flush  func([]T) []T
	blocks [][]T // the elements past items' capacity
	n      int   // how many the blocks hold
}

// slot appends an element and returns it to be decoded.
func (l *elems[T]) slot() *T {
	var zero T
	if l.flush != nil && len(l.items) == cap(l.items) && len(l.items) > 0 {
		l.items = l.flush(l.items)
	}
	if len(l.items) < cap(l.items) {
		l.items = append(l.items, zero)
		return &l.items[len(l.items)-1]
	}
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1]) == cap(l.blocks[len(l.blocks)-1]) {
		l.blocks = append(l.blocks, make([]T, 0, min(max(l.n, 64), 1024)))
	}
	b := &l.blocks[len(l.blocks)-1]
	*b = append(*b, zero)
	l.n++
	return &(*b)[len(*b)-1]
}

// done appends the blocks to the items, and returns them.
func (l *elems[T]) done() []T {
	if l.n > 0 {
		l.items = slices.Grow(l.items, l.n)
		for _, b := range l.blocks {
			l.items = append(l.items, b...)
		}
	}
	return l.items
}

// decodeObject reads a single JSON object into v, ignoring whatever
// follows it.
func decodeObject(r io.Reader, v record) error {
	d := newDecoder(r)
	k := d.PeekKind()
	if k == 'n' {
		if err := d.skip(); err != nil {
			return err
		}
		return fmt.Errorf("%w: null body", errShape)
	}
	return d.record(k, v)
}

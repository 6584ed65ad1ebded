package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/covage/gateway/internal/domain"
)

// The second level stores values in a compact binary form of the decoded
// domain values, not Covage's JSON, so that a hit costs no JSON decoding,
// label mapping or validation. The form follows the Go types field by
// field, in declaration order:
//
//   - a pointer is one byte, 0 for nil or 1 followed by what it points to,
//     so a pointer to "" stays distinct from nil;
//   - a slice is its length as a uvarint, then its elements;
//   - a string is its length as a uvarint, then its bytes; a bool is one
//     byte; an integer is a varint; a float64 is 8 bytes;
//   - a time.Time is its MarshalBinary form, which keeps the zone offset
//     Covage sent, behind its length.
//
// The form has no field names, so any change to a cached type would read
// old values wrongly: codecVersion derives a version from the types' shapes
// (field names, kinds and order), and every key carries it, so a deploy
// that changes a type never reads values written by the one before.

// cachedTypes are the types the cache stores, one per endpoint.
var cachedTypes = []reflect.Type{
	reflect.TypeFor[[]*domain.Project](),
	reflect.TypeFor[[]*domain.Enni](),
	reflect.TypeFor[[]*domain.Business](),
	reflect.TypeFor[*domain.BillingSite](),
	reflect.TypeFor[[]*domain.TerminateReason](),
	reflect.TypeFor[[]*domain.ChangeReason](),
	reflect.TypeFor[[]*domain.SiteConnectionType](),
}

// codecFormat names the encoding rules above; bump it when they change.
const codecFormat = "b1"

var timeType = reflect.TypeFor[time.Time]()

// codecVersion is codecFormat and a digest of the shapes of cachedTypes.
func codecVersion() string {
	var b strings.Builder
	for _, t := range cachedTypes {
		shape(&b, t)
		b.WriteByte(';')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return codecFormat + "-" + hex.EncodeToString(sum[:4])
}

func shape(b *strings.Builder, t reflect.Type) {
	if t == timeType {
		b.WriteString("time")
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		b.WriteByte('*')
		shape(b, t.Elem())
	case reflect.Slice:
		b.WriteString("[]")
		shape(b, t.Elem())
	case reflect.Struct:
		b.WriteString(t.Name() + "{")
		for i := range t.NumField() {
			f := t.Field(i)
			b.WriteString(f.Name + ":")
			shape(b, f.Type)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	default:
		b.WriteString(t.Kind().String())
	}
}

// errCodec is what a value the codec cannot write or read gives.
var errCodec = errors.New("cache: codec")

// encode appends v's binary form to buf.
func encode(buf []byte, v reflect.Value) ([]byte, error) {
	if v.Type() == timeType {
		tb, err := v.Interface().(time.Time).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errCodec, err)
		}
		buf = binary.AppendUvarint(buf, uint64(len(tb)))
		return append(buf, tb...), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0), nil
		}
		return encode(append(buf, 1), v.Elem())
	case reflect.Slice:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		var err error
		for i := range v.Len() {
			if buf, err = encode(buf, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case reflect.Struct:
		var err error
		for i := range v.NumField() {
			if buf, err = encode(buf, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case reflect.String:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		return append(buf, v.String()...), nil
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int()), nil
	case reflect.Float64:
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float())), nil
	}
	return nil, fmt.Errorf("%w: cannot encode %s", errCodec, v.Type())
}

// decoder reads the binary form back. Every length is checked against what
// is left, so a corrupt or hostile value fails instead of allocating
// without bound.
//
// It allocates little: strings are slices of one copy of the whole value
// (s, from the offset of b in it), a list's structs are one array, and
// pointed-to strings come from chunks of strs. A decoded value keeps the
// whole copy alive, which is what the cache holds anyway.
type decoder struct {
	b    []byte
	s    string
	strs []string
}

func newDecoder(b []byte) *decoder { return &decoder{b: b, s: string(b)} }

// str returns the next n bytes as a string, sharing d.s.
func (d *decoder) str(n int) string {
	off := len(d.s) - len(d.b)
	d.b = d.b[n:]
	return d.s[off : off+n]
}

// newString returns a pointer to a string slot.
func (d *decoder) newString() *string {
	if len(d.strs) == 0 {
		d.strs = make([]string, 256)
	}
	p := &d.strs[0]
	d.strs = d.strs[1:]
	return p
}

func (d *decoder) fail() error { return fmt.Errorf("%w: truncated or corrupt value", errCodec) }

func (d *decoder) uvarint() (uint64, error) {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		return 0, d.fail()
	}
	d.b = d.b[k:]
	return n, nil
}

// length reads a length and checks that at least min bytes per item
// remain for it.
func (d *decoder) length(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.b)/min) {
		return 0, d.fail()
	}
	return int(n), nil
}

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, d.fail()
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) decode(v reflect.Value) error {
	if v.Type() == timeType {
		n, err := d.length(1)
		if err != nil {
			return err
		}
		var t time.Time
		// Only times RFC 3339 can write come from Covage: a year of four
		// digits and an offset in whole minutes, under 24 hours.
		if err := t.UnmarshalBinary(d.b[:n]); err != nil || t.Year() < 0 || t.Year() > 9999 {
			return d.fail()
		}
		if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
			return d.fail()
		}
		d.b = d.b[n:]
		v.Set(reflect.ValueOf(t))
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		c, err := d.byte()
		if err != nil || c > 1 {
			return d.fail()
		}
		if c == 0 {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.String && v.Type().Elem() == reflect.TypeFor[string]() {
			p := d.newString()
			if err := d.decode(reflect.ValueOf(p).Elem()); err != nil {
				return err
			}
			v.Set(reflect.ValueOf(p))
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := d.decode(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Slice:
		n, err := d.length(1) // every element takes at least one byte
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		if et := v.Type().Elem(); et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct && et.Elem() != timeType {
			// A list of objects: their structs in one array.
			arr := reflect.MakeSlice(reflect.SliceOf(et.Elem()), n, n)
			for i := range n {
				c, err := d.byte()
				if err != nil || c > 1 {
					return d.fail()
				}
				if c == 0 {
					continue
				}
				if err := d.decode(arr.Index(i)); err != nil {
					return err
				}
				s.Index(i).Set(arr.Index(i).Addr())
			}
			v.Set(s)
			return nil
		}
		for i := range n {
			if err := d.decode(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Struct:
		for i := range v.NumField() {
			if err := d.decode(v.Field(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		n, err := d.length(1)
		if err != nil {
			return err
		}
		v.SetString(d.str(n))
		return nil
	case reflect.Bool:
		c, err := d.byte()
		if err != nil || c > 1 {
			return d.fail()
		}
		v.SetBool(c == 1)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, k := binary.Varint(d.b)
		if k <= 0 || v.OverflowInt(n) {
			return d.fail()
		}
		d.b = d.b[k:]
		v.SetInt(n)
		return nil
	case reflect.Float64:
		if len(d.b) < 8 {
			return d.fail()
		}
		v.SetFloat(math.Float64frombits(binary.BigEndian.Uint64(d.b)))
		d.b = d.b[8:]
		return nil
	}
	return fmt.Errorf("%w: cannot decode %s", errCodec, v.Type())
}

// marshal encodes a cached value.
func marshal[T any](v T) ([]byte, error) {
	rv := reflect.ValueOf(&v).Elem()
	if rv.Kind() == reflect.Interface {
		rv = rv.Elem() // the dynamic value, as unmarshal's T names it
	}
	if !rv.IsValid() {
		return nil, fmt.Errorf("%w: nil value", errCodec)
	}
	return encode(make([]byte, 0, 512), rv)
}

// unmarshal decodes a cached value; every byte must be used.
func unmarshal[T any](b []byte) (T, error) {
	var v T
	d := newDecoder(b)
	if err := d.decode(reflect.ValueOf(&v).Elem()); err != nil {
		return v, err
	}
	if len(d.b) != 0 {
		return v, d.fail()
	}
	return v, nil
}

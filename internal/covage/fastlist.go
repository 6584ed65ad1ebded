package covage

import (
	"io"
	"strings"
	"sync"
)

// The fast path of a list of records.
//
// Nearly every record the upstream sends is a flat object of strings,
// numbers, booleans and nulls. The fast path reads such a record in one
// pass over the body's bytes, checking it as it goes, where the jsontext
// Decoder it stands in for made a call per value and a second pass to find
// the fields: BenchmarkDecodeEnnis2000, which maps the doors too, took
// 1.3 ms with the Decoder alone and 0.7 ms with the fast path (GOGC=800,
// so that the collector does not blur the two). Whatever else it meets (a nested value, an escaped or
// non-ASCII name, a malformed byte, the body's end) it leaves to the
// Decoder, which resumes at the same byte: so everything the fast path
// accepts is valid JSON decoded as the Decoder decodes it, and everything
// else, errors included, is the Decoder's. FuzzDecodeDifferential checks
// both against encoding/json.

// fastRead is how much the fast path reads from the body at a time.
const fastRead = 32 << 10

// fastMinRead is the least a read takes from the body before the fast
// path scans again, unless the body ends.
const fastMinRead = 4 << 10

// fastMaxRecord bounds what the fast path holds of one record, the
// separator and spaces before it included. A longer one is the Decoder's,
// which reads any length in one pass.
const fastMaxRecord = fastRead / 2

// fastList is the body as the fast path reads it: buf[pos:] is read from
// the body and not yet decoded, and base is the body's offset of buf[0].
// A Decoder that resumes reads it as an io.Reader: first what is left of
// buf, then the body.
type fastList struct {
	r     io.Reader
	buf   []byte
	spare []byte // the other buffer, which buf is rebuilt into
	pos   int
	base  int64
	err   error // the body's read error, once it has given one
	bufs  *buffers
	scans int // fastRecord calls, rescans included: tests bound them
}

// buffers keeps the fast path's buffers between lists, for a Client: a
// list read allocated and cleared two of them. The zero value is ready;
// a nil one allocates every buffer.
type buffers struct{ pool sync.Pool }

func (bs *buffers) get() []byte {
	if bs != nil {
		if p, ok := bs.pool.Get().(*[fastRead]byte); ok {
			return p[:0]
		}
	}
	return make([]byte, 0, fastRead)
}

func (bs *buffers) put(b []byte) {
	if bs != nil && cap(b) == fastRead {
		bs.pool.Put((*[fastRead]byte)(b[:fastRead]))
	}
}

// release gives the buffers back, once the list is read: nothing reads
// them after it (a Decoder reading f has ended with the list).
func (f *fastList) release() {
	if f.r != nil {
		f.bufs.put(f.buf)
		f.bufs.put(f.spare)
	}
	*f = fastList{bufs: f.bufs}
}

// Read implements io.Reader for a resumed Decoder.
func (f *fastList) Read(p []byte) (int, error) {
	if f.pos < len(f.buf) {
		n := copy(p, f.buf[f.pos:])
		f.pos += n
		return n, nil
	}
	if f.err != nil {
		return 0, f.err
	}
	return f.r.Read(p)
}

// fill reads more of the body, keeping buf[pos:]. It reports false when
// the body has ended or failed.
func (f *fastList) fill() bool {
	if f.err != nil {
		return false
	}
	n := copy(f.buf, f.buf[f.pos:])
	f.base += int64(f.pos)
	f.buf, f.pos = f.buf[:n], 0
	if cap(f.buf)-n < fastRead/2 {
		f.buf = append(make([]byte, 0, max(2*cap(f.buf), fastRead)), f.buf...)
	}
	// A record the buffer ended within is scanned again from its start
	// once more is read: reading at least fastMinRead first keeps a body
	// that arrives a few bytes at a time from having its records scanned
	// over and over.
	got := 0
	for got < fastMinRead && n+got < cap(f.buf) {
		m, err := f.r.Read(f.buf[n+got : cap(f.buf)])
		got += m
		if err != nil {
			f.err = err
			break
		}
	}
	f.buf = f.buf[:n+got]
	return got > 0 || f.err == nil
}

// fastElems reads the elements of a list with the fast path, from where
// d stands in it (after its '[' or after an element) for as long as it
// can, then makes d resume there. first tells whether an element has been
// read, and is kept up to date. It returns the slot taken for an element
// that d must now read, or nil, and how many elements it read.
func fastElems[T listItem](d *decoder, l *elems[T], first *bool, inObject bool) (*T, int) {
	f := &d.fast
	if f.r == nil {
		f.r, f.buf, f.spare = d.src, f.bufs.get(), f.bufs.get()
	}
	// Take what d has buffered: d is not read again until it resumes.
	nb := append(f.spare[:0], d.UnreadBuffer()...)
	nb = append(nb, f.buf[f.pos:]...)
	f.base = d.offset()
	f.spare, f.buf, f.pos = f.buf, nb, 0

	var v *T
	read := 0
	for {
		b := f.buf
		i := skipSpace(b, f.pos)
		if i < len(b) && !*first {
			if b[i] != ',' {
				break // the list's end, or the Decoder's error
			}
			i = skipSpace(b, i+1)
		}
		if i < len(b) {
			if b[i] != '{' {
				break
			}
			if v == nil {
				v = l.slot()
			}
			end, st := d.fastRecord(b, i, any(v).(record))
			f.scans++
			if st == fastOK {
				f.pos, *first, v = end, false, nil
				read++
				continue
			}
			if st == fastDecline {
				break
			}
		}
		if len(b)-f.pos >= fastMaxRecord || !f.fill() {
			break
		}
	}
	d.resume(*first, inObject)
	return v, read
}

// resume makes d read on from where the fast path stands, behind a prefix
// that puts its Decoder in the same place: in the list (and in the
// envelope, when the list is one of its values), before or after an
// element. Offsets are kept the body's through d.shift.
func (d *decoder) resume(first, inObject bool) {
	f := &d.fast
	prefix := "["
	if inObject {
		prefix = `{"":[`
	}
	if !first {
		// An object, as the element read was, so that what follows reads
		// as it did after it ("0" would take a following "." as its own).
		prefix += "{}"
	}
	d.shift = f.base + int64(f.pos) - int64(len(prefix))
	d.Decoder = newJSONDecoder(io.MultiReader(strings.NewReader(prefix), f))
	// The prefix is valid JSON as far as it goes: none of these fail.
	if inObject {
		_, _ = d.ReadToken()
		_, _ = d.ReadValue()
	}
	_, _ = d.ReadToken()
	if !first {
		_, _ = d.ReadValue()
	}
}

// The outcomes of fastRecord.
const (
	fastOK      = iota
	fastDecline // the Decoder must read this record
	fastShort   // b ended within the record
	fastPlain   // a string in ASCII without escapes, whose text is its bytes
)

// fastRecord reads the object at b[i] into r when it is a flat one the
// fast path knows, and returns the index just past it. r is only written
// when it succeeds.
func (d *decoder) fastRecord(b []byte, i int, r record) (int, int) {
	d.vals, d.fields = d.vals[:0], d.fields[:0]
	if i = skipSpace(b, i+1); i == len(b) {
		return 0, fastShort
	}
	if b[i] == '}' {
		d.setFields()
		return i + 1, fastOK
	}
	for {
		// A name, in plain ASCII, which field or fold matches as record
		// does.
		if b[i] != '"' {
			return 0, fastDecline
		}
		s := i
		for i++; i < len(b) && plainByte[b[i]]; i++ {
		}
		if i == len(b) {
			return 0, fastShort
		}
		if b[i] != '"' {
			return 0, fastDecline
		}
		quoted := b[s : i+1]
		if i = skipSpace(b, i+1); i == len(b) {
			return 0, fastShort
		}
		if b[i] != ':' {
			return 0, fastDecline
		}
		if i = skipSpace(b, i+1); i == len(b) {
			return 0, fastShort
		}
		t := r.field(quoted[1 : len(quoted)-1])
		if t == nil {
			t = r.field(d.fold(quoted))
		}

		// A scalar value.
		end, st := scalarEnd(b, i)
		if st == fastDecline || st == fastShort {
			return 0, st
		}
		if t != nil && b[i] != 'n' { // null leaves the field as it is
			start := len(d.vals)
			if st == fastPlain {
				d.vals = append(d.vals, b[i+1:end-1]...)
			} else {
				d.vals, _ = appendText(d.vals, b[i:end])
			}
			d.fields = append(d.fields, pending{t: t, start: start, end: len(d.vals)})
		}

		if i = skipSpace(b, end); i == len(b) {
			return 0, fastShort
		}
		switch b[i] {
		case '}':
			d.setFields()
			return i + 1, fastOK
		case ',':
			if i = skipSpace(b, i+1); i == len(b) {
				return 0, fastShort
			}
		default:
			return 0, fastDecline
		}
	}
}

// scalarEnd checks the string, number or literal at b[i] and returns the
// index just past it, with fastPlain for a plain string. A value the fast
// path does not read (an object, an array, anything malformed) is
// declined; one that b may end within is short.
func scalarEnd(b []byte, i int) (int, int) {
	switch c := b[i]; {
	case c == '"':
		plain := true
		for i++; i < len(b); i++ {
			for i < len(b) && plainByte[b[i]] {
				i++
			}
			if i == len(b) {
				break
			}
			switch c := b[i]; {
			case c == '"':
				if plain {
					return i + 1, fastPlain
				}
				return i + 1, fastOK
			case c >= 0x80:
				plain = false
			case c < ' ':
				return 0, fastDecline
			case c == '\\':
				plain = false
				if i+1 == len(b) {
					return 0, fastShort
				}
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i++
				case 'u':
					if i+6 > len(b) {
						return 0, fastShort
					}
					for _, h := range b[i+2 : i+6] {
						if !isHex(h) {
							return 0, fastDecline
						}
					}
					i += 5
				default:
					return 0, fastDecline
				}
			}
		}
		return 0, fastShort
	case c == 't':
		return literalEnd(b, i, "true")
	case c == 'f':
		return literalEnd(b, i, "false")
	case c == 'n':
		return literalEnd(b, i, "null")
	case c == '-' || isDigit(c):
		return numberEnd(b, i)
	}
	return 0, fastDecline
}

// literalEnd checks that b holds lit at i.
func literalEnd(b []byte, i int, lit string) (int, int) {
	n := min(len(b)-i, len(lit))
	if string(b[i:i+n]) != lit[:n] {
		return 0, fastDecline
	}
	if n < len(lit) {
		return 0, fastShort
	}
	return i + n, fastOK
}

// numberEnd checks the JSON number at b[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?
// ([eE][+-]?[0-9]+)?. The byte after it must be there, since a number
// ends only where something else begins.
func numberEnd(b []byte, i int) (int, int) {
	if b[i] == '-' {
		i++
	}
	digits := func() (int, int) {
		j := i
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		switch {
		case j == len(b):
			return 0, fastShort
		case j == i:
			return 0, fastDecline
		}
		return j, fastOK
	}
	var st int
	switch {
	case i == len(b):
		return 0, fastShort
	case b[i] == '0':
		if i++; i == len(b) {
			return 0, fastShort
		}
	default:
		if i, st = digits(); st != fastOK {
			return 0, st
		}
	}
	if b[i] == '.' {
		i++
		if i, st = digits(); st != fastOK {
			return 0, st
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, st = digits(); st != fastOK {
			return 0, st
		}
	}
	return i, fastOK
}

// plainByte tells the bytes that a plain string holds as they are: ASCII
// but for control characters, the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

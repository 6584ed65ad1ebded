package connection

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
)

// cursorVersion is the version of the cursor layout. A change of layout
// gets a new version, and old cursors are refused rather than misread.
const cursorVersion = 1

// maxCursorLen bounds the cursor text decoded: a cursor holds one field's
// value and one key, and anything longer was not issued here.
const maxCursorLen = 4096

// cursor names a record's place in one connection and order: by the
// record's folded sort value and its key, not by offset, so it survives
// records being added or removed elsewhere in the list. Pos, the record's
// position in Covage's list when the cursor was issued, only places it
// when the record itself is gone (or among ties). It is plain data with no
// secret, so any replica of the gateway reads it: base64url of a version
// byte, then Conn, Order, Value and Key each as a uvarint length and its
// bytes, then Pos as a uvarint.
type cursor struct {
	Version byte
	Conn    string
	Order   string
	Value   string
	Key     string
	Pos     int
}

func (c cursor) encode() string {
	b := make([]byte, 0, 8+len(c.Conn)+len(c.Order)+len(c.Value)+len(c.Key))
	b = append(b, c.Version)
	for _, s := range []string{c.Conn, c.Order, c.Value, c.Key} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(c.Pos))
	return base64.RawURLEncoding.EncodeToString(b)
}

// errForeignCursor is what a cursor this gateway did not issue for the
// connection and order gets.
var errForeignCursor = errors.New("not a cursor of this connection and order")

// decodeCursor reads a cursor, which must be of connection conn and order.
func decodeCursor(s, conn, order string) (cursor, error) {
	if len(s) > maxCursorLen {
		return cursor{}, errForeignCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || b[0] != cursorVersion {
		return cursor{}, errForeignCursor
	}
	c := cursor{Version: b[0]}
	b = b[1:]
	for _, dst := range []*string{&c.Conn, &c.Order, &c.Value, &c.Key} {
		n, used := binary.Uvarint(b)
		if used <= 0 || n > uint64(len(b)-used) {
			return cursor{}, errForeignCursor
		}
		*dst = string(b[used : used+int(n)])
		b = b[used+int(n):]
	}
	pos, used := binary.Uvarint(b)
	if used <= 0 || used != len(b) || pos > math.MaxInt32 {
		return cursor{}, errForeignCursor
	}
	c.Pos = int(pos)
	if c.Conn != conn || c.Order != order {
		return cursor{}, errForeignCursor
	}
	return c, nil
}

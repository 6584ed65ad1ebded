package connection

import (
	"encoding/base64"
	"encoding/json"
	"errors"
)

// cursorVersion is the version of the cursor encoding. A change of layout
// gets a new version, and old cursors are refused rather than misread.
const cursorVersion = 1

// maxCursorLen bounds the cursor text decoded: a cursor holds one field's
// value and one key, and anything longer was not issued here.
const maxCursorLen = 4096

// cursor names a record's place in one connection and order: by the
// record's folded sort value and its key, not by offset, so it survives
// records being added or removed elsewhere in the list. Pos, the record's
// position in Covage's list when the cursor was issued, only places it
// when the record itself is gone. It is plain data, base64url-encoded
// JSON, with no secret: any replica of the gateway reads it.
type cursor struct {
	Version int    `json:"v"`
	Conn    string `json:"c"`
	Order   string `json:"o,omitempty"`
	Value   string `json:"s,omitempty"`
	Key     string `json:"k"`
	Pos     int    `json:"p"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and ints always marshals
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
	if err != nil {
		return cursor{}, errForeignCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, errForeignCursor
	}
	if c.Version != cursorVersion || c.Conn != conn || c.Order != order || c.Pos < 0 {
		return cursor{}, errForeignCursor
	}
	return c, nil
}

package gateway

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeJSON skips re-encoding the data; what it writes must still be what
// json.Marshal writes for the same response.
func TestWriteJSONMatchesMarshal(t *testing.T) {
	yes := true
	cases := map[string]*graphql.Response{
		"data only":   {Data: json.RawMessage(`{"projects":[{"code":"A"}]}`)},
		"no data":     {Errors: gqlerror.List{{Message: "boom", Extensions: map[string]any{"code": "X"}}}},
		"null data":   {Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: "m", Path: ast.Path{ast.PathName("a"), ast.PathIndex(2)}}}},
		"extensions":  {Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"stale": []any{map[string]any{"endpoint": "enni"}}}},
		"incremental": {Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("a")}, HasNext: &yes},
		"everything": {
			Data:       json.RawMessage(`{"a":"b"}`),
			Errors:     gqlerror.List{{Message: "partial"}},
			Extensions: map[string]any{"k": 1},
		},
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeJSON(rec, 200, resp, etagOf)
			if got := rec.Body.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("writeJSON wrote\n%s\njson.Marshal writes\n%s", got, want)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) {
				t.Fatalf("Content-Length %q, body %d bytes", cl, len(want))
			}
		})
	}
}

// HTML-sensitive characters are the one difference: json.Marshal escapes
// them in the data, writeJSON does not; the JSON value is the same.
func TestWriteJSONKeepsHTMLCharacters(t *testing.T) {
	resp := &graphql.Response{Data: json.RawMessage(`{"label":"A & B <c>"}`)}
	rec := httptest.NewRecorder()
	writeJSON(rec, 400, resp, etagOf)
	if rec.Code != 400 {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	var got, want any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	_ = json.Unmarshal(b, &want)
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Fatalf("value %s, want %s", g, w)
	}
	if !bytes.Contains(rec.Body.Bytes(), []byte("A & B <c>")) {
		t.Fatalf("data was re-escaped: %s", rec.Body.Bytes())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package covage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"
)

func TestFastRecord(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`{}`, fastOK},
		{`{ "code" : "A" , "active" : true }`, fastOK},
		{`{"Code":"A","code_client":-12.5e+3,"active":false,"end_date":null}`, fastOK},
		{`{"code":"Régional \"x\" \u00e9 \/ \n"}`, fastOK},
		{"{\"code\":\"a\xffb\"}", fastOK}, // invalid UTF-8 is the Decoder's leniency too
		{`{"code":0}`, fastOK},
		// What the Decoder must read.
		{`{"code":{"a":1}}`, fastDecline},
		{`{"code":[1]}`, fastDecline},
		{`{"\u0063ode":"A"}`, fastDecline},
		{"{\"c\u017fde\":\"A\"}", fastDecline},
		{`{"code":01}`, fastDecline},
		{`{"code":1.}`, fastDecline},
		{`{"code":1e}`, fastDecline},
		{`{"code":-}`, fastDecline},
		{`{"code":tru}`, fastDecline},
		{`{"code":"\x"}`, fastDecline},
		{`{"code":"\u12x4"}`, fastDecline},
		{"{\"code\":\"a\x01\"}", fastDecline},
		{"{\"co\x01de\":\"A\"}", fastDecline},
		{"{\"code\"\x0b:\"A\"}", fastDecline},
		{`{"code":"A",}`, fastDecline},
		{`{"code" "A"}`, fastDecline},
		{`{"code":"A"]`, fastDecline},
		{`{code:"A"}`, fastDecline},
		// Where the buffer ends within the record.
		{`{`, fastShort},
		{`{"code`, fastShort},
		{`{"code":`, fastShort},
		{`{"code":"A`, fastShort},
		{`{"code":"A\`, fastShort},
		{`{"code":"\u00`, fastShort},
		{`{"code":12`, fastShort},
		{`{"code":-`, fastShort},
		{`{"code":1.5e`, fastShort},
		{`{"code":fal`, fastShort},
		{`{"code":"A"`, fastShort},
		{`{"code":"A",`, fastShort},
	}
	d := newDecoder(strings.NewReader(""))
	for _, tt := range tests {
		var r rawProject
		end, got := d.fastRecord([]byte(tt.in), 0, &r)
		require.Equal(t, tt.want, got, "%s", tt.in)
		if got == fastOK {
			require.Equal(t, len(tt.in), end, "%s", tt.in)
		} else {
			require.Equal(t, rawProject{}, r, "%s: a record not read stays as it was", tt.in)
		}
	}

	var r rawProject
	_, st := d.fastRecord([]byte(`{"Code":"A","code":null,"ACTIVE":"x","active":true,"code_client":"\u00e9\"","start_date":-1.5E-3}`), 0, &r)
	require.Equal(t, fastOK, st)
	require.Equal(t, rawProject{Code: text{"A", true}, Active: text{"true", true}, ClientCode: text{"é\"", true}, StartDate: text{"-1.5E-3", true}}, r)
}

// longList is n door records, most of them plain and some that the fast
// path leaves to the Decoder, so that a long body switches between the two
// many times, across the fast path's reads.
func longList(n int) []byte {
	return jsonArray(n, ",\n ", func(b *bytes.Buffer, i int) {
		switch {
		case i%97 == 5:
			fmt.Fprintf(b, `{"reference":"CN%06d","extra":{"nested":[1,{"deep":true}]},"label":"n°%d"}`, i, i)
		case i%131 == 7:
			fmt.Fprintf(b, `{"\u0072eference":"CN%06d","OFFER":"bpea"}`, i)
		case i%211 == 9:
			b.WriteString(`null`)
		default:
			fmt.Fprintf(b, `{"Code":%d,"name":"Client \"%d\"","reference":"CN%06d","label":"Porte de collecte n°%d","offer":"BPEA","delivery_mode":"Régional","active":%t}`,
				i, i, i, i, i%3 == 0)
		}
	})
}

func TestFastPathAgreesOnLongLists(t *testing.T) {
	list := longList(3000)
	bodies := map[string][]byte{
		"bare":     list,
		"envelope": append(append([]byte(`{"count":3000,"results":`), list...), `,"next":"https://x/?page=2","previous":null}`...),
	}
	for name, body := range bodies {
		want, wantNext, err := decodeListStd[rawEnni](bytes.NewReader(body), "", nil)
		require.NoError(t, err)
		readers := map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(body) },
			"1 byte":   func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) },
			"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(body)) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) },
		}
		for rname, r := range readers {
			got, next, err := decodeList[rawEnni](r(), "", nil)
			require.NoError(t, err, "%s, %s", name, rname)
			require.Equal(t, want, got, "%s, %s", name, rname)
			require.Equal(t, wantNext, next, "%s, %s", name, rname)
		}
	}
}

// TestFastPathErrorOffsets checks that an error found after the fast path
// has read part of a list gives the body's offset, as a Decoder reading
// the body from its start, value by value, gives it.
func TestFastPathErrorOffsets(t *testing.T) {
	list := longList(2000)
	for _, bad := range []string{`{"code":x}`, `{"code":"A",}`, `{"code":"A"`, `]`, `,`} {
		body := append(append([]byte(`{"results":`), list[:len(list)-1]...), ","+bad...)
		_, _, err := decodeList[rawEnni](bytes.NewReader(body), "", nil)
		require.Error(t, err, bad)

		want := readValues(body)
		require.Equal(t, errClass(want), errClass(err), bad)
		var got, exp *jsontext.SyntacticError
		if errors.As(want, &exp) {
			require.ErrorAs(t, err, &got, bad)
			require.Equal(t, exp.ByteOffset, got.ByteOffset, "%s: %v / %v", bad, err, want)
		}
	}
}

// readValues reads {"results":[...]} value by value with a Decoder alone,
// as decode.go did before its fast path, and returns the error it meets.
func readValues(body []byte) error {
	d := newJSONDecoder(bytes.NewReader(body))
	for _, err := range []error{first(d.ReadToken()), first(d.ReadValue()), first(d.ReadToken())} {
		if err != nil {
			return err
		}
	}
	for d.PeekKind() != ']' {
		if _, err := d.ReadValue(); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

func first[T any](_ T, err error) error { return err }

// TestFastPathScansRecordsAFewTimes checks that a body arriving a byte at
// a time does not have its records scanned again for each byte: a record
// the buffer ends within is scanned again only after fastMinRead more
// bytes, and one longer than fastMaxRecord is left to the Decoder.
func TestFastPathScansRecordsAFewTimes(t *testing.T) {
	long := `[{"code":"` + strings.Repeat("A", 4*fastMaxRecord) + `","reference":"R"}]`
	for name, body := range map[string][]byte{
		"2,000 records":  longList(2000),
		"a 64 KiB field": []byte(long),
	} {
		want, _, err := decodeListStd[rawEnni](bytes.NewReader(body), "", nil)
		require.NoError(t, err)
		d := newDecoder(iotest.OneByteReader(bytes.NewReader(body)))
		got, _, err := decodeListFrom(d, "", []rawEnni(nil), nil)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
		bound := len(want) + len(body)/fastMinRead + 2
		if name == "a 64 KiB field" {
			bound = fastMaxRecord/fastMinRead + 2
		} else {
			// The odd records, one in forty, are the Decoder's, and the
			// fast path takes the others up again after each of them.
			require.GreaterOrEqual(t, d.fast.scans, len(want)*9/10, name)
		}
		require.LessOrEqual(t, d.fast.scans, bound, name)
		t.Logf("%s: %d scans for %d records and %d bytes", name, d.fast.scans, len(want), len(body))
	}
}

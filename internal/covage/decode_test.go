package covage

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/require"
)

// differentialSeeds are bodies on which decode.go must agree with the
// encoding/json oracle (decode_std_test.go), on top of testdata's.
var differentialSeeds = []string{
	// Shapes.
	`[]`, `{}`, `null`, `"hello"`, `42`, `1e400`, `true`, `[null]`, `[1]`, `["a"]`, `[true]`, `[[]]`, `[{}]`,
	`{"count":2,"next":"https://x/?page=2","previous":null,"results":[{"code":"A"},{"Code":"B"}]}`,
	`{"results":null}`, `{"results":null,"results":[{"code":"A"}]}`, `{"results":[{"code":"A"}],"results":[{"code":"B"}]}`,
	`{"RESULTS":[{"code":"A"}],"Next":"n","COUNT":1}`, `{"ReSuLtS":[],"nExT":null}`,
	`{"results":{"code":"A"}}`, `{"results":"x"}`, `{"results":1e400}`, `{"results":tru}`, `{"results":}`,
	`{"next":5,"results":[]}`, `{"next":{"a":1},"results":[]}`, `{"next":"a","next":null,"results":[]}`, `{"next":"a\u00e9\/","results":[]}`,
	`{"count":"x","results":[]}`, `{"count":-1,"results":[]}`, `{"count":1e12,"results":[]}`, `{"count":1e400,"results":[]}`,
	`{"count":[1,{"a":1e999}],"results":[]}`, `{"count":{"a":[1e-999]},"results":[]}`,
	`{"detail":"nope"}`, `{"extra":{"nested":[1,{"deep":true}]},"results":[]}`,
	`{"terminate_reasons":["Cessation d'activit\u00e9",null,{"x":1},[1],42,true,""]}`, `{"Terminate_Reasons":["a"],"results":["b"]}`,
	`{"results":[]]`, `{"results":[]}trailing`, `[{"code":"A"}]trailing`, `[{"code":"A"}] [`, `{"results":[],}`, `{1:2}`,
	// Records.
	`[{"code":"A","code":null}]`, `[{"Code":"A","code":null}]`, `[{"code":"A","Code":"B"}]`, `[{"code":"A","code":{"x":1}}]`,
	`[{"code":"A","code":[1]}]`, `[{"code":42,"active":1,"code_client":7,"start_date":-0.5e+3}]`, `[{"code":true,"active":false}]`,
	`[{"code":"A\u00e9\"","code_client":"x\ty\\z\/"}]`, `[{"\u0063ode":"A"}]`, `[{"CODE":"A","ACTIVE":"TRUE"}]`,
	`[{"reference":"R","\u017fhort_name":"s","Short_Name":"S2"}]`, `[{"reference":"\u212aelvin","offer":"bpea","dsp":"x"}]`,
	"[{\"reference\":\"R\",\"\u212a\":1,\"s\u017fhort_name\":2,\"short_\u017fame\":3}]",
	"[{\"reference\":\"a\xffb\",\"label\":\"\xc3\",\"name\":\"\xed\xa0\x80\",\"dsp\":\"\xf4\x90\x80\x80\"}]",
	"[{\"code\xff\":\"A\",\"code\":\"B\xe2\x82\"}]",
	`[{"reference":"\ud800","label":"\ud800\u0041","name":"\udc00\ud800","dsp":"\ud83d\ude00","offer":"\uD83D\uDE00x"}]`,
	`[{"reference":"a\u0000b"}]`, `[{"code":"A","unknown":{"a":[1,2,{"b":null}]},"active":"maybe"}]`,
	`[{"code":"A"},null,{"code":"B"}]`, `[{"code":"A"},"x"]`, `[{"code":"A"},["x"]]`, `[{"code":"A"},1e400]`,
	`[{"code":"A"} {"code":"B"}]`, `[{"code":"A"},]`, `[,]`, `[{"code" "A"}]`, `[{"code":"A",}]`, `[{"code":"A"]`, `[{"code":"A"}}`,
	`[{"code":01}]`, `[{"code":-}]`, `[{"code":"a` + "\x01" + `"}]`, `[{"code":"\x"}]`, `[{"code":"\u12"}]`, `[{"code":nul}]`,
	` [ { "code" : "A" } ] `, "\ufeff[]", "",
	// Truncated documents.
	`[`, `[{`, `[{"code"`, `[{"code":`, `[{"code":"A`, `[{"code":"A"`, `[{"code":"A"}`, `[{"code":"A"},`,
	`{`, `{"results"`, `{"results":`, `{"results":[`, `{"results":[]`, `{"results":[],`, `{"count":1`, `{"results":null`,
	`{"next":"a`, `{"next":`, `"abc`, `tru`, `1`, `-`,
}

// corpusSeeds reads the seed corpus of FuzzDecodeList.
func corpusSeeds(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzDecodeList", "*"))
	require.NoError(t, err)
	var seeds [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		require.Len(t, lines, 2, name)
		lit, ok := strings.CutPrefix(lines[1], "[]byte(")
		require.True(t, ok, name)
		body, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		require.NoError(t, err, name)
		seeds = append(seeds, []byte(body))
	}
	require.NotEmpty(t, seeds)
	return seeds
}

// FuzzDecodeDifferential decodes the same bytes with decode.go and with the
// encoding/json oracle, for every raw type, and requires the same records,
// the same next link, and the same outcome (see sameOutcome).
func FuzzDecodeDifferential(f *testing.F) {
	addTestdata(f)
	for _, b := range corpusSeeds(f) {
		f.Add(b)
	}
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareList[rawProject](t, body, "", nil)
		compareList(t, body, "", []rawEnni{{Reference: text{"before", true}}})
		compareList[rawBusiness](t, body, "", nil)
		compareList[text](t, body, "terminate_reasons", nil)
		compareList[text](t, body, "", nil)
		compareObject(t, body)
	})
}

// compareList checks decodeList against decodeListStd on body, read whole
// and one byte at a time. done stands for the pages already read.
func compareList[T listItem](t *testing.T, body []byte, listKey string, done []T) {
	t.Helper()
	want, wantNext, wantErr := decodeListStd(bytes.NewReader(body), listKey, cloneDone(done))
	for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body))} {
		got, gotNext, err := decodeList(r, listKey, cloneDone(done))
		sameOutcome(t, body, wantErr, err)
		if wantErr == nil && err == nil {
			require.Equal(t, want, got, "%T records of %q", got, body)
			require.Equal(t, wantNext, gotNext, "next of %q", body)
		}
	}
}

// cloneDone copies done, so that each decoder appends to its own array.
func cloneDone[T any](done []T) []T {
	if done == nil {
		return nil
	}
	return append([]T(nil), done...)
}

// compareObject checks decodeObject against decodeObjectStd on body.
func compareObject(t *testing.T, body []byte) {
	t.Helper()
	var want, got rawBillingSite
	wantErr := decodeObjectStd(bytes.NewReader(body), &want)
	err := decodeObject(iotest.OneByteReader(bytes.NewReader(body)), &got)
	sameOutcome(t, body, wantErr, err)
	if wantErr == nil && err == nil {
		require.Equal(t, want, got, "billing site of %q", body)
	}
}

// errClass names the outcome of a decode the way describeDecode words it,
// for the errors of either decoder. Shape errors keep their whole text.
func errClass(err error) string {
	var stdSyntax *json.SyntaxError
	var syntax *jsontext.SyntacticError
	var stdType *json.UnmarshalTypeError
	var typ *typeError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errShape):
		return err.Error()
	case err == io.EOF:
		return "empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case errors.As(err, &stdSyntax), errors.As(err, &syntax):
		return "syntax"
	case errors.As(err, &stdType), errors.As(err, &typ):
		return "type"
	}
	return "other: " + err.Error()
}

// sameOutcome requires err to be of the class of the oracle's wantErr,
// with one documented exception. encoding/json's Decoder.More reports false
// at the end of the input, so the oracle took a document that ends before
// its closing '}' or ']' for complete: {"results":[...] decoded as a whole
// page, {"count":1 as an object without a list, [{...} as an empty body.
// decode.go reports all of them as truncated, so that a cut body never
// passes for a complete page. The exception is only granted when
// encoding/json itself finds the document truncated.
func sameOutcome(t *testing.T, body []byte, wantErr, err error) {
	t.Helper()
	want, got := errClass(wantErr), errClass(err)
	if want == got {
		return
	}
	if got == "truncated" && (want == "ok" || want == "empty" || want == errShape.Error()+": object without a list") {
		var v json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&v); errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
	}
	t.Fatalf("decoding %q: oracle gives %s (%v), jsontext gives %s (%v)", body, want, wantErr, got, err)
}

func TestDecodeLeniency(t *testing.T) {
	tests := []struct {
		name string
		body string
		want rawEnni
	}{
		{"capitalised", `[{"Reference":"R","CODE":"C"}]`, rawEnni{Reference: text{"R", true}, Code: text{"C", true}}},
		{"later null keeps the value", `[{"Code":"C","code":null,"reference":"R"}]`, rawEnni{Code: text{"C", true}, Reference: text{"R", true}}},
		{"last duplicate wins", `[{"code":"A","Code":"B","code":{},"code":[],"reference":"R"}]`, rawEnni{Code: text{"B", true}, Reference: text{"R", true}}},
		{"literals", `[{"code":7.50,"active":true,"label":false,"reference":-1e3}]`, rawEnni{Code: text{"7.50", true}, Active: text{"true", true}, Label: text{"false", true}, Reference: text{"-1e3", true}}},
		{"escaped name", `[{"r\u0065ference":"R"}]`, rawEnni{Reference: text{"R", true}}},
		{"unicode folding", "[{\"reference\":\"R\",\"\u017fhort_name\":\"S\"}]", rawEnni{Reference: text{"R", true}, ShortName: text{"S", true}}},
		{"invalid utf-8", "[{\"reference\":\"a\xffb\",\"label\":\"\xe2\x82\"}]", rawEnni{Reference: text{"a\ufffdb", true}, Label: text{"\ufffd\ufffd", true}}},
		{"unpaired surrogate", `[{"reference":"\ud800x","label":"\ud83d\ude00"}]`, rawEnni{Reference: text{"\ufffdx", true}, Label: text{"😀", true}}},
		{"escapes", `[{"reference":"a\"\\\/\b\f\n\r\t\u00e9"}]`, rawEnni{Reference: text{"a\"\\/\b\f\n\r\té", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decodeList[rawEnni](strings.NewReader(tt.body), "", nil)
			require.NoError(t, err)
			require.Equal(t, []rawEnni{tt.want}, got)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		body string
		want string // describeDecode's text
	}{
		{``, "empty body"},
		{`[{"code":"A"},`, "truncated json"},
		{`{"results":[{"code":"A"}]`, "truncated json"}, // encoding/json took this for a complete page
		{`[{"code" "A"}]`, "invalid json at offset 9"},
		{`[{"code":"A"},"B"]`, "unexpected json string at offset 17"},
		{`{"count":1e999,"results":[]}`, "unexpected json number 1e999 at offset 14"},
		{`{"results":{"code":"A"}}`, `unexpected document shape: "results" is not a list`},
		{`{"next":1,"results":[]}`, "unexpected document shape: next is not a link"},
		{`{"detail":"x"}`, "unexpected document shape: object without a list"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			_, _, err := decodeList[rawProject](strings.NewReader(tt.body), "", nil)
			require.EqualError(t, describeDecode(err), tt.want)
		})
	}
}

// TestFieldNames checks that each record's field method knows exactly the
// names of its tags, so the oracle and decode.go read the same fields.
func TestFieldNames(t *testing.T) {
	for _, r := range []record{&rawProject{}, &rawEnni{}, &rawBusiness{}, &rawBillingSite{}} {
		v := reflect.ValueOf(r).Elem()
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag.Get("json")
			if tag == "" {
				require.False(t, v.Type().Field(i).IsExported(), "%T.%s has no tag", r, v.Type().Field(i).Name)
				continue
			}
			require.Same(t, v.Field(i).Addr().Interface(), r.field([]byte(tag)), "%T %q", r, tag)
			require.Nil(t, r.field([]byte(tag+"x")))
		}
	}
}

// TestKeyFolding checks decoder.fold against the simple case folding that
// encoding/json matches names with, for every rune: a rune folds to an
// ASCII letter exactly when strings.EqualFold says they match.
func TestKeyFolding(t *testing.T) {
	var d decoder
	for r := rune(0x20); r <= utf8.MaxRune; r++ {
		if r == '"' || r == '\\' || !utf8.ValidRune(r) {
			continue
		}
		want := string(r)
		for c := 'a'; c <= 'z'; c++ {
			if strings.EqualFold(string(r), string(c)) {
				want = string(c)
			}
		}
		if got := string(d.fold(jsontext.Value(`"` + string(r) + `"`))); got != want {
			t.Fatalf("key(%U) = %q, want %q", r, got, want)
		}
	}
	require.Equal(t, "start_date", string(d.fold(jsontext.Value(`"St\u0061rt_D\u0041TE"`))))
}

// TestDecodeDepthLimit documents the one difference from the oracle that
// the fuzzer cannot reach. Both decoders reject JSON nested more than 10,000
// deep, but encoding/json counted from each value it decoded (a list
// element, an envelope member) while jsontext counts from the top of the
// document, and offers no option to change its limit. So a value nested
// within three levels of the limit may pass one and fail the other; no
// upstream record comes near, and both outcomes are a list or an
// ErrBadResponse.
func TestDecodeDepthLimit(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

	deep := `{"results":[{"code":` + nest(9997) + `}]}` // 10,000 deep
	_, _, err := decodeList[rawProject](strings.NewReader(deep), "", nil)
	require.NoError(t, err)
	_, _, err = decodeListStd[rawProject](strings.NewReader(deep), "", nil)
	require.NoError(t, err)

	deeper := `{"results":[{"code":` + nest(9998) + `}]}`
	_, _, err = decodeList[rawProject](strings.NewReader(deeper), "", nil)
	require.Equal(t, "syntax", errClass(err), "10,001 deep from the top")
	_, _, err = decodeListStd[rawProject](strings.NewReader(deeper), "", nil)
	require.NoError(t, err, "9,999 deep from the element")

	deepest := `{"results":[{"code":` + nest(10001) + `}]}`
	_, _, err = decodeList[rawProject](strings.NewReader(deepest), "", nil)
	require.Equal(t, "syntax", errClass(err))
	_, _, err = decodeListStd[rawProject](strings.NewReader(deepest), "", nil)
	require.Equal(t, "syntax", errClass(err))
}

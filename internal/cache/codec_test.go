package cache

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// fill sets every field reachable from v, found by reflection so that a
// field added to a domain type is covered without editing this test. With
// zero set, pointers point to zero values, which must stay distinct from
// nil.
func fill(v reflect.Value, zero bool) {
	if v.Type() == timeType {
		if !zero {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("", 2*3600))))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), zero)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), zero)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), zero)
		}
	case reflect.String:
		if !zero {
			v.SetString("é-" + v.Type().Name() + "\x00\"")
		}
	case reflect.Bool:
		v.SetBool(!zero)
	case reflect.Int, reflect.Int64:
		if !zero {
			v.SetInt(-42)
		}
	default:
		panic("fill: add " + v.Kind().String())
	}
}

// roundTrip encodes and decodes a value of t and requires the same JSON
// (which shows nil against pointer-to-zero and the time's zone offset).
func roundTrip(t *testing.T, v reflect.Value) {
	t.Helper()
	data, err := marshal[any](v.Interface())
	require.NoError(t, err)
	back := reflect.New(v.Type())
	d := newDecoder(data)
	require.NoError(t, d.decode(back.Elem()))
	require.Empty(t, d.b)
	want, err := json.Marshal(v.Interface())
	require.NoError(t, err)
	got, err := json.Marshal(back.Elem().Interface())
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
}

func TestCodecRoundTrip(t *testing.T) {
	for _, typ := range cachedTypes {
		for _, zero := range []bool{false, true} {
			t.Run(typ.String(), func(t *testing.T) {
				v := reflect.New(typ).Elem()
				fill(v, zero)
				roundTrip(t, v)
				if typ.Kind() == reflect.Slice {
					// nil elements and empty lists survive too.
					v.Index(1).Set(reflect.Zero(typ.Elem()))
					roundTrip(t, v)
					roundTrip(t, reflect.MakeSlice(typ, 0, 0))
				}
			})
		}
	}
}

func TestCodecRejectsCorruptValues(t *testing.T) {
	good, err := marshal([]*domain.Enni{{Reference: "CN1", Label: new(string)}})
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"huge length":    {0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad pointer":    {1, 7},
		"empty":          {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := unmarshal[[]*domain.Enni](data)
			require.ErrorIs(t, err, errCodec)
		})
	}
}

func TestCodecVersionFollowsShapes(t *testing.T) {
	type a struct {
		X string
		Y *bool
	}
	type b struct {
		Y *bool
		X string
	}
	var sa, sb strings.Builder
	shape(&sa, reflect.TypeFor[[]*a]())
	shape(&sb, reflect.TypeFor[[]*b]())
	require.NotEqual(t, sa.String(), sb.String())
	require.Regexp(t, `^b1-[0-9a-f]{8}$`, codecVersion())
}

// FuzzCodec feeds arbitrary bytes to the decoder, as a hostile or
// corrupted Redis would: it must fail cleanly, and what it accepts must
// survive another round trip unchanged (varints may be overlong, so the
// bytes themselves may differ).
func FuzzCodec(f *testing.F) {
	seed := reflect.New(reflect.TypeFor[[]*domain.Business]()).Elem()
	fill(seed, false)
	good, err := marshal[any](seed.Interface())
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte{2, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := unmarshal[[]*domain.Business](data)
		if err != nil {
			return
		}
		again, err := marshal(v)
		require.NoError(t, err)
		back, err := unmarshal[[]*domain.Business](again)
		require.NoError(t, err)
		want, _ := json.Marshal(v)
		got, _ := json.Marshal(back)
		require.JSONEq(t, string(want), string(got))
	})
}

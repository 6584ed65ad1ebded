package domain

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIDRoundTrip(t *testing.T) {
	for _, kind := range []Kind{KindProject, KindEnni, KindBusiness, KindBillingSite} {
		id := NewID(kind, "A:B/é")
		k, key, ok := ParseID(id)
		require.True(t, ok)
		require.Equal(t, kind, k)
		require.Equal(t, "A:B/é", key)
	}
	for _, bad := range []string{"", "!!", NewID("Other", "x"), NewID(KindProject, "")} {
		_, _, ok := ParseID(bad)
		require.False(t, ok, bad)
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2022-01-14T13:57:04Z")
	require.NoError(t, err)
	require.Equal(t, Date("2022-01-14"), d)
	_, err = ParseDate("14/01/2022")
	require.Error(t, err)
	var buf bytes.Buffer
	d.MarshalGQL(&buf)
	require.Equal(t, `"2022-01-14"`, buf.String())
	require.Error(t, d.UnmarshalGQL(3))
}

func TestEnumUnmarshal(t *testing.T) {
	var o Offer
	require.NoError(t, o.UnmarshalGQL("BPEA"))
	require.Equal(t, OfferBPEA, o)
	require.Error(t, o.UnmarshalGQL("bpea"))
	var c SiteConnectionTypeCode
	require.Error(t, c.UnmarshalGQL(1))
}

// TestEnumMarshal checks enum values are written exactly as strconv.Quote
// writes them, names and oddities alike.
func TestEnumMarshal(t *testing.T) {
	for _, v := range []string{"BPEA", "MOVE_WITH_COVAGE_LINK", "_x9", "", `a"b`, "é", "a b", "\x00"} {
		var buf bytes.Buffer
		Offer(v).MarshalGQL(&buf)
		require.Equal(t, strconv.Quote(v), buf.String())
	}
}

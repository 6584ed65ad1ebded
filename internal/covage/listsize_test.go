package covage

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// TestLongListIsDecodedOnce reads a list of 20,000 doors again and bounds
// what each read allocates: the body's bytes (the values' strings are at
// most that), one raw record and one mapped record per door, with the
// sixteenth of spare room listsize.go leaves. Decoding into blocks and then
// joining them into one slice, as the first read of a list does, allocates
// one more raw record per door and fails it. The measure is allocation
// (runtime.MemStats.TotalAlloc), the least of three rounds, not time.
func TestLongListIsDecodedOnce(t *testing.T) {
	const n = 20_000
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{
			"Code": fmt.Sprint(i), "name": fmt.Sprintf("Client C%04d", i%500), "short_name": fmt.Sprintf("C%04d", i%500),
			"reference": fmt.Sprintf("CN%06d", i), "label": fmt.Sprintf("Porte de collecte n°%d", i), "offer": "BPEA",
			"dsp": "Covage", "delivery_mode": "Régional", "active": true,
		}
	}
	body, err := json.Marshal(items)
	require.NoError(t, err)
	u := newUpstream(t)
	u.handle("enni/", serve(200, body))
	c := newClient(t, u)
	read := func() {
		list, err := c.Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Len(t, list, n)
	}
	read() // the first read learns the list's length

	least := math.Inf(1)
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		read()
		read()
		runtime.ReadMemStats(&m1)
		least = min(least, float64(m1.TotalAlloc-m0.TotalAlloc)/2)
	}
	perDoor := float64(unsafe.Sizeof(rawEnni{}))*17/16 + float64(unsafe.Sizeof(enniRecord{})) + float64(unsafe.Sizeof(&domain.Enni{}))
	bound := float64(len(body)) + n*perDoor + 256<<10
	t.Logf("body %d bytes, %.0f bytes allocated per read, bound %.0f (a raw record is %d bytes)", len(body), least, bound, unsafe.Sizeof(rawEnni{}))
	require.LessOrEqual(t, least, bound)
}

// TestMappedDoorsDropTheirRawRecords checks that the doors a read returns
// do not keep the raw records they were mapped from: a list held by a
// request or the shared cache would otherwise hold both. Once the doors
// are the only reference left, a collection frees the raw records.
func TestMappedDoorsDropTheirRawRecords(t *testing.T) {
	c := newClient(t, newUpstream(t))
	raw, _, err := decodeList(strings.NewReader(`[{"reference":"CN1","code":"1","name":"n","short_name":"s","label":"l","offer":"BPE","dsp":"d","delivery_mode":"m","active":true}]`), "", []rawEnni(nil))
	require.NoError(t, err)
	gone := weak.Make(&raw[0])
	doors := c.ennis(raw)
	raw = nil
	runtime.GC()
	require.Nil(t, gone.Value(), "the raw records are still reachable")
	require.Equal(t, "CN1", doors[0].Reference)
	require.Equal(t, "l", *doors[0].Label)
	require.Equal(t, domain.OfferBPE, *doors[0].Offer)
	runtime.KeepAlive(doors)
}

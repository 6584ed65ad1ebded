package covage

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// TestDoorsShareRepeatedValues maps a long list of doors whose customer
// and delivery mode repeat, and checks that doors with the same value
// point to one copy of it, that sharing never mixes values up (values
// differing only by case or spacing, an empty value and an absent one),
// and that a field with more distinct values than a table takes (the DSP
// here) still maps every door to its own value. A short list maps to the
// same values without sharing them.
func TestDoorsShareRepeatedValues(t *testing.T) {
	for _, n := range []int{shareFrom, shareFrom - 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var b bytes.Buffer
			b.WriteByte('[')
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				name := []string{"Client A", "Client B", "client a", " Client A"}[i%4]
				mode := `"delivery_mode":""`
				if i%3 == 0 {
					mode = `"delivery_mode":null`
				}
				fmt.Fprintf(&b, `{"reference":"CN%d","code":"%d","name":%q,"short_name":"S%d","dsp":"DSP %d","label":"Porte %d",%s}`,
					i, i, name, i%4, i, i, mode)
			}
			b.WriteByte(']')
			raw, _, err := decodeList(bytes.NewReader(b.Bytes()), "", []rawEnni(nil))
			require.NoError(t, err)
			doors := newClient(t, newUpstream(t)).ennis(raw)
			require.Len(t, doors, n)

			long := n >= shareFrom
			for i, e := range doors {
				require.Equal(t, fmt.Sprintf("CN%d", i), e.Reference)
				require.Equal(t, fmt.Sprint(i), *e.Code)
				require.Equal(t, fmt.Sprintf("Porte %d", i), *e.Label)
				require.Equal(t, []string{"Client A", "Client B", "client a", " Client A"}[i%4], *e.Name)
				require.Equal(t, fmt.Sprintf("S%d", i%4), *e.ShortName)
				// Every DSP is its own: the table is full after
				// maxShared of them, and the doors after get a
				// string each.
				require.Equal(t, fmt.Sprintf("DSP %d", i), *e.Dsp)
				if i%3 == 0 {
					require.Nil(t, e.DeliveryMode, "door %d: null is absent", i)
				} else {
					require.NotNil(t, e.DeliveryMode, "door %d: an empty value is present", i)
					require.Empty(t, *e.DeliveryMode)
				}
				if i >= 4 {
					require.Equal(t, long, doors[i-4].Name == e.Name, "door %d: shared", i)
					require.Equal(t, long, doors[i-4].ShortName == e.ShortName, "door %d: shared", i)
					require.NotSame(t, doors[i-1].Name, e.Name, "door %d", i)
				}
			}
			require.Equal(t, long, doors[1].DeliveryMode == doors[n-1].DeliveryMode)
		})
	}
}

// TestDoorsHoldTheirOwnBytes reads 20,000 doors shaped like the demo
// upstream's (50 customers, 5 DSPs, a label each) and bounds the memory
// the list holds once read: its records, a pointer each, and the bytes of
// each door's own strings (code, reference, label), where the raw
// records' strings held every field's text, and each door a string for
// each of its customer's name and identifier, its DSP and its delivery
// mode. The measure is the live heap after a collection, not time.
func TestDoorsHoldTheirOwnBytes(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector changes what the runtime allocates")
	}
	const n = 20_000
	dsps := []string{"OXO", "Covage", "Altitude", "Axione", "Tutor"}
	own := 0
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		code, ref, label := fmt.Sprint(i), fmt.Sprintf("CN%06d", i), fmt.Sprintf("Porte de collecte n°%d", i)
		own += len(code) + len(ref) + len(label)
		fmt.Fprintf(&b, `{"code":%q,"name":"Client C%04d","short_name":"C%04d","reference":%q,"label":%q,"offer":"BPEA","dsp":%q,"delivery_mode":"Régional","active":true}`,
			code, i%50, i%50, ref, label, dsps[i%len(dsps)])
	}
	b.WriteByte(']')
	u := newUpstream(t)
	u.handle("enni/", serve(200, b.Bytes()))
	c := newClient(t, u)
	read := func() []*domain.Enni {
		list, err := c.Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Len(t, list, n)
		return list
	}
	read() // the pools and the list's length are warm from here

	held := int64(-1)
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.GC() // and the pools' victims gone
		runtime.ReadMemStats(&m0)
		list := read()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(list)
		held = max(held, int64(m1.HeapAlloc)-int64(m0.HeapAlloc))
	}
	perDoor := float64(unsafe.Sizeof(enniRecord{}) + unsafe.Sizeof(&domain.Enni{}))
	bound := float64(n)*perDoor*17/16 + float64(own) + 256<<10
	t.Logf("%d doors hold %d bytes, %.1f a door; bound %.0f (own strings %.1f bytes a door)", n, held, float64(held)/n, bound, float64(own)/n)
	require.LessOrEqual(t, float64(held), bound)
}

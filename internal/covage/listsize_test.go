package covage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// TestLongListIsDecodedOnce reads a list of 20,000 doors, then again, and
// bounds what each read allocates; once its length is known: the body's bytes (the values' strings are at
// most that), one mapped record per door with the sixteenth of spare room
// listsize.go leaves, a pointer per door, and a block of raw records that
// fetchMapped reuses. Holding every raw record until the whole list is
// decoded, as reads did before, allocates one more raw record per door
// (232 bytes) and fails it; so does decoding into blocks and then joining
// them. The measure is allocation (runtime.MemStats.TotalAlloc), the least
// of three rounds, not time.
func TestLongListIsDecodedOnce(t *testing.T) {
	if raceDetector {
		// Under -race a first read allocated 3.7 records' bytes a door
		// beyond the body, where it allocates 2.3 without it: the bound
		// could no longer tell doubling from append's growth (3.9).
		// CI runs this test without the race detector too.
		t.Skip("the race detector changes what the runtime allocates")
	}
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
	var c *Client
	read := func() {
		list, err := c.Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Len(t, list, n)
	}
	record := float64(unsafe.Sizeof(enniRecord{}))
	pointer := float64(unsafe.Sizeof(&domain.Enni{}))

	// The first read learns the list's length. Its records grow by
	// doubling, from a block of raw records: within three times the
	// records' bytes beyond the body, where append's own growth of a
	// quarter at a time takes four.
	first := math.Inf(1)
	for range 3 {
		c = newClient(t, u)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		read()
		runtime.ReadMemStats(&m1)
		first = min(first, float64(m1.TotalAlloc-m0.TotalAlloc))
	}
	firstBound := float64(len(body)) + n*(3*record+pointer) + 256<<10
	t.Logf("first read: %.0f bytes allocated, bound %.0f (%.1f records' bytes beyond the body)", first, firstBound, (first-float64(len(body)))/(n*record))
	require.LessOrEqual(t, first, firstBound)

	least := math.Inf(1)
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		read()
		read()
		runtime.ReadMemStats(&m1)
		least = min(least, float64(m1.TotalAlloc-m0.TotalAlloc)/2)
	}
	perDoor := record*17/16 + pointer
	bound := float64(len(body)) + n*perDoor + 256<<10
	t.Logf("body %d bytes, %.0f bytes allocated per read, bound %.0f (a raw record is %d bytes)", len(body), least, bound, unsafe.Sizeof(rawEnni{}))
	require.LessOrEqual(t, least, bound)
}

// TestMappedDoorsDropTheirRawRecords checks that the doors a read returns
// do not keep the raw records they were mapped from: a list held by a
// request or the shared cache would otherwise hold both. Once the doors
// are the only reference left, a collection frees the raw records. Nor
// does each door keep a copy of its offer.
func TestMappedDoorsDropTheirRawRecords(t *testing.T) {
	c := newClient(t, newUpstream(t))
	raw, _, err := decodeList(strings.NewReader(`[{"reference":"CN1","code":"1","name":"n","short_name":"s","label":"l","offer":"BPE","dsp":"d","delivery_mode":"m","active":true},{"reference":"CN2","offer":" bpe"}]`), "", []rawEnni(nil))
	require.NoError(t, err)
	gone := weak.Make(&raw[0])
	doors := c.ennis(raw)
	raw = nil
	runtime.GC()
	require.Nil(t, gone.Value(), "the raw records are still reachable")
	require.Equal(t, "CN1", doors[0].Reference)
	require.Equal(t, "l", *doors[0].Label)
	require.Equal(t, domain.OfferBPE, *doors[0].Offer)
	// An offer is one of two values: the doors point to one copy of it,
	// not each to its own.
	require.Same(t, doors[0].Offer, doors[1].Offer)
	runtime.KeepAlive(doors)
}

// TestMappedPagesRetryFromTheirStart checks fetchMapped where it keeps
// state across attempts: page 2 of the doors is cut mid-body on its first
// try, after more than a block of doors was mapped, and the retry must
// start again from the end of page 1. The doors come back once each and
// in order, and the door without a reference, mapped before the cut too,
// is skipped, and logged, once.
func TestMappedPagesRetryFromTheirStart(t *testing.T) {
	const perPage = 3*mapBlock + 10
	doors := func(page int) []byte {
		var b bytes.Buffer
		for i := range perPage {
			if i > 0 {
				b.WriteByte(',')
			}
			if page == 2 && i == 10 {
				b.WriteString(`{"label":"no reference"}`)
				continue
			}
			fmt.Fprintf(&b, `{"reference":"P%dD%04d"}`, page, i)
		}
		return b.Bytes()
	}
	u := newUpstream(t)
	tries := 0
	u.handle("enni/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			next := u.base() + apiPath + "enni/?page=2"
			serve(200, []byte(`{"next":"`+next+`","results":[`+string(doors(1))+`]}`))(w, r)
			return
		}
		tries++
		body := []byte(`{"next":null,"results":[` + string(doors(2)) + `]}`)
		if tries == 1 {
			// A connection dropped after two blocks and a half: the
			// client retries it as a connection error.
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = buf.Write(body[:len(body)*5/6])
			_ = buf.Flush()
			return
		}
		serve(200, body)(w, r)
	})
	var logs bytes.Buffer
	c := newClient(t, u, func(c *Config) {
		c.MaxAttempts = 2
		c.RetryBaseDelay, c.RetryMaxDelay = time.Millisecond, time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	got, err := c.Ennis(context.Background(), domain.EnniFilter{})
	require.NoError(t, err)
	require.Equal(t, 2, tries)
	var want []string
	for page := 1; page <= 2; page++ {
		for i := range perPage {
			if page == 1 || i != 10 {
				want = append(want, fmt.Sprintf("P%dD%04d", page, i))
			}
		}
	}
	refs := make([]string, len(got))
	for i, d := range got {
		refs[i] = d.Reference
	}
	require.Equal(t, want, refs)
	require.Equal(t, 1, strings.Count(logs.String(), "records without their key skipped"), logs.String())
	require.Contains(t, logs.String(), "count=1")
}

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

// TestLongListIsDecodedOnce reads a list of 20,000 doors, first with its
// length unknown, then again, and bounds what each read allocates: the
// body's bytes (the values' strings are at most that), one mapped record
// per door and at most a chunk's worth of spare ones, a pointer per door,
// and a block of raw records that fetchMapped reuses. Holding every raw
// record until the whole list is decoded, as reads did before, allocates
// one more raw record per door (232 bytes) and fails it; so does growing
// one array of mapped records, by doubling (a first read, up to three
// records a door) or by a guess of its length. The measure is allocation
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
	var c *Client
	read := func() {
		list, err := c.Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Len(t, list, n)
	}
	record := float64(unsafe.Sizeof(enniRecord{}))
	pointer := float64(unsafe.Sizeof(&domain.Enni{}))
	bound := float64(len(body)) + n*(record+pointer) + chunkLen*record + 256<<10

	first := math.Inf(1)
	for range 3 {
		c = newClient(t, u)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		read()
		runtime.ReadMemStats(&m1)
		first = min(first, float64(m1.TotalAlloc-m0.TotalAlloc))
	}
	t.Logf("first read: %.0f bytes allocated, bound %.0f (%.2f records' bytes a door beyond the body)", first, bound, (first-float64(len(body)))/(n*record))
	require.LessOrEqual(t, first, bound)

	least := math.Inf(1)
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		read()
		read()
		runtime.ReadMemStats(&m1)
		least = min(least, float64(m1.TotalAlloc-m0.TotalAlloc)/2)
	}
	t.Logf("body %d bytes, %.0f bytes allocated per read, bound %.0f (a raw record is %d bytes)", len(body), least, bound, unsafe.Sizeof(rawEnni{}))
	require.LessOrEqual(t, least, bound)
}

// TestChunks checks the chunks mapped records are kept in: filled in
// order, a new chunk when the current one lacks room, and truncate (a
// page read again) keeping exactly the records before it, across chunk
// boundaries, with the records it drops cleared.
func TestChunks(t *testing.T) {
	var c chunks[int]
	next := 0
	add := func(n int) {
		c.room(n)
		for range n {
			c.cur = append(c.cur, next)
			next++
		}
	}
	contents := func() []int {
		var out []int
		for _, chunk := range c.all() {
			require.LessOrEqual(t, len(chunk), max(chunkLen, cap(chunk)))
			out = append(out, chunk...)
		}
		return out
	}
	upTo := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	require.Empty(t, contents())
	for range 5 {
		add(mapBlock)
	}
	add(10)
	require.Equal(t, 5*mapBlock+10, c.len())
	require.Len(t, c.full, 1, "four blocks fill a chunk, the fifth starts the next")
	require.Equal(t, upTo(c.len()), contents())

	add(3 * mapBlock) // 266 + 768 > 1024: a third chunk
	require.Len(t, c.full, 2)
	require.Equal(t, upTo(c.len()), contents())

	// Back into the first chunk, dropping two.
	dropped := c.full[1]
	c.truncate(700)
	require.Equal(t, 700, c.len())
	require.Equal(t, upTo(700), contents())
	require.Empty(t, c.full)
	require.Equal(t, make([]int, len(dropped)), dropped[:len(dropped):len(dropped)], "a dropped chunk is cleared")
	require.Equal(t, 0, c.cur[:cap(c.cur)][700], "a dropped record is cleared")

	next = 700
	add(2 * mapBlock)
	require.Equal(t, upTo(c.len()), contents())
	c.truncate(c.len()) // nothing to drop
	require.Equal(t, upTo(700+2*mapBlock), contents())
	c.truncate(0)
	require.Zero(t, c.len())
	require.Empty(t, contents())
	next = 0
	add(1)
	require.Equal(t, []int{0}, contents())

	// A block larger than a chunk gets a chunk of its size.
	add(chunkLen + 1)
	require.Equal(t, upTo(chunkLen+2), contents())
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

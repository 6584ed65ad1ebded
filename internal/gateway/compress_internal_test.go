package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/klauspost/compress/gzhttp/writer/gzkp"
	"github.com/stretchr/testify/require"
)

// TestWarmAnswersAreCompressedOnce checks the writer factory gzhttp calls:
// the first compressed send of a response-cache entry compresses and keeps
// the result; every later one replays it without compressing.
func TestWarmAnswersAreCompressedOnce(t *testing.T) {
	rc := newResponseCache(ResponseCache{MaxBytes: 1 << 20}, func(context.Context) string { return "" })
	entry := &cachedResponse{key: [32]byte{1}, data: bytes.Repeat([]byte(`{"reference":"CN012345"},`), 200)}
	rc.lru.Add(entry.key, entry)
	rc.bytes += entry.size()
	body := append(append([]byte(`{"data":[`), entry.data...), `]}`...)

	send := func(opened *int) []byte {
		rec := httptest.NewRecorder()
		dw := &deliveryWriter{ResponseWriter: rec, st: &delivery{rc: rc, cached: entry}}
		c := reuseEncoded(dw, encodingGzip, func(w io.Writer) compressor {
			*opened++
			return gzkp.NewWriter(w, gzipLevel)
		})
		// gzhttp writes the identity body in pieces.
		for chunk := range slices.Chunk(body, 1000) {
			_, err := c.Write(chunk)
			require.NoError(t, err)
		}
		require.NoError(t, c.Close())
		return rec.Body.Bytes()
	}

	var opened int
	first := send(&opened)
	require.Equal(t, 1, opened)
	require.Equal(t, first, bytes.Join(rc.encoded(entry, encodingGzip), nil), "the encoding sent is kept")
	require.Nil(t, rc.encoded(entry, encodingZstd))
	require.Equal(t, entry.size(), rc.bytes, "and counted in the cache's bytes")

	for range 3 {
		require.Equal(t, first, send(&opened))
	}
	require.Equal(t, 1, opened, "a warm answer is never compressed twice")

	// An entry evicted meanwhile keeps nothing.
	gone := &cachedResponse{key: [32]byte{2}, data: entry.data}
	dw := &deliveryWriter{ResponseWriter: httptest.NewRecorder(), st: &delivery{rc: rc, cached: gone}}
	c := reuseEncoded(dw, encodingZstd, func(w io.Writer) compressor { return gzkp.NewWriter(w, gzipLevel) })
	_, err := c.Write(body)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Nil(t, rc.encoded(gone, encodingZstd))
}

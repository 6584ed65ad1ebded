package plan

import (
	"bytes"
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// Streamed lists (issue 16, item 4): a list the fast path writes is, when
// the same selection took at least Streams.Min bytes last time, not built
// in gqlgen's response buffer at all. Its marshaler writes one NUL byte,
// which no JSON text holds outside a string and every JSON string escapes,
// and registers itself with the request's Streams. The transport then
// replays the data with each mark replaced by its list, written in chunks
// of about chunkBytes into one small buffer: once to measure the answer
// (its exact length, for Content-Length and MAX_RESPONSE_BYTES, and its
// ETag, which needs every byte) and once to send it. The answer is never
// whole in memory; writing a large list twice costs less than building it
// in a buffer of its size (measured in BENCHMARKS.md, "Memory: one copy").
// The lists are immutable once prepared, so both passes write the same
// bytes.

// chunkBytes is how much of a streamed list is written before it is handed
// on: large enough that a socket write or a compressor call is not per
// item, small enough to stay in cache.
const chunkBytes = 32 << 10

// Streams is one request's streamed lists, in the order their marks appear
// in the data: gqlgen marshals the response into one buffer in order.
type Streams struct {
	// Min is the size a list's last answer must have reached for it to be
	// streamed; 0 streams nothing.
	Min int64
	// Limit, when positive, bounds the data's bytes, lists included
	// (MAX_RESPONSE_BYTES); Over is the answer to send in their place.
	Limit int64
	Over  *graphql.Response

	lists []streamer
	chunk *out
}

// streamer writes a list into b, handing b on through flush whenever it
// holds a chunk, and reports false when flush asked it to stop.
type streamer interface {
	stream(b *out, flush func() bool) bool
}

type streamsKey struct{}

// WithStreams returns ctx whose fast lists may be streamed through s. Only
// a transport that replays the data through s may install it.
func WithStreams(ctx context.Context, s *Streams) context.Context {
	return context.WithValue(ctx, streamsKey{}, s)
}

// StreamsOf returns the request's Streams, or nil.
func StreamsOf(ctx context.Context) *Streams {
	s, _ := ctx.Value(streamsKey{}).(*Streams)
	return s
}

// Len is the number of streamed lists, each one mark in the data.
func (s *Streams) Len() int {
	if s == nil {
		return 0
	}
	return len(s.lists)
}

// take registers l, expected to take about size bytes, when it is to be
// streamed.
func (s *Streams) take(l streamer, size int64) bool {
	if s == nil || s.Min <= 0 || size < s.Min {
		return false
	}
	s.lists = append(s.lists, l)
	return true
}

// Replay hands data to emit in order, in pieces, each mark replaced by its
// list. It stops when emit returns false, and reports whether it went to
// the end; ok is false too when data does not hold exactly one mark per
// list (which would mean gqlgen wrote something else into the buffer).
// Replay may be called more than once; each call writes the same bytes.
func (s *Streams) Replay(data []byte, emit func([]byte) bool) (ok bool) {
	if s.chunk == nil {
		s.chunk = &out{b: make([]byte, 0, chunkBytes+chunkBytes/4)}
	}
	b := s.chunk
	flush := func() bool {
		if len(b.b) == 0 {
			return true
		}
		ok := emit(b.b)
		b.b = b.b[:0]
		return ok
	}
	rest := data
	for _, l := range s.lists {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return false
		}
		if !emit(rest[:i]) || !l.stream(b, flush) || !flush() {
			return false
		}
		rest = rest[i+1:]
	}
	if bytes.IndexByte(rest, 0) >= 0 {
		return false
	}
	return emit(rest)
}

// stream writes the list into b, handing it on at each chunk, and records
// its size for the next answer of the same selection.
func (r *rendered[T]) stream(b *out, flush func() bool) bool {
	written, stopped := 0, false
	r.plan.write(b, r.list, r.loaded, func(n int) bool {
		if n < chunkBytes {
			return false
		}
		written += n
		if !flush() {
			stopped = true
		}
		return stopped
	})
	if stopped {
		return false
	}
	if r.size != nil {
		r.size.Store(int64(written + len(b.b)))
	}
	return true
}

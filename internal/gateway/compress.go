package gateway

import (
	"io"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzhttp/writer"
	"github.com/klauspost/compress/gzhttp/writer/gzkp"
	"github.com/klauspost/compress/gzhttp/writer/zstdkp"
	"github.com/klauspost/compress/zstd"
)

// Compression of /query and the Playground is klauspost's gzhttp: it
// chooses zstd or gzip from Accept-Encoding and its q-values, leaves bodies
// under minCompressSize alone, always sets Vary: Accept-Encoding, and
// buffers no more than minCompressSize before it starts writing, so a
// flushed or streamed answer is never held back.
//
// On /query, the answers the response cache serves are compressed once per
// encoding: gzhttp asks its writer factory for a compressor, and the
// factory below, when the request's answer is a response-cache entry,
// either replays the bytes it kept for that encoding or records the bytes
// it produces into the entry.

const (
	// minCompressSize is the smallest body compressed: below about 1 KiB
	// the framing and the CPU cost more than the bytes saved.
	minCompressSize = 1024
	// gzipLevel trades size for CPU: on the 514 kB projects-and-doors
	// answer, klauspost's level 1 took 0.51 ms for 39.9 kB where level 5
	// took 1.0 ms for 39.1 kB and level 6 1.2 ms for 39.7 kB.
	gzipLevel = 1
)

// Encodings named as in Content-Encoding.
const (
	encodingGzip = "gzip"
	encodingZstd = "zstd"
)

// compression wraps handlers in gzhttp; query is for /query, with the
// response cache's reuse, plain for the Playground.
type compression struct {
	query, plain func(http.Handler) http.HandlerFunc
}

func newCompression() compression {
	// The options' type is unexported: each wrapper lists them in full.
	plain, err := gzhttp.NewWrapper(
		gzhttp.MinSize(minCompressSize),
		gzhttp.CompressionLevel(gzipLevel),
		gzhttp.ZstdCompressionLevel(int(zstd.SpeedFastest)),
		// An encoded answer is another representation: its strong ETag
		// gets the encoding as a suffix (see etagMatches).
		gzhttp.SuffixETag("-"+encodingGzip),
	)
	if err != nil {
		panic(err) // the options are constants: a programming error
	}
	query, err := gzhttp.NewWrapper(
		gzhttp.MinSize(minCompressSize),
		gzhttp.CompressionLevel(gzipLevel),
		gzhttp.ZstdCompressionLevel(int(zstd.SpeedFastest)),
		gzhttp.SuffixETag("-"+encodingGzip),
		gzhttp.Implementation(writer.GzipWriterFactory{Levels: gzkp.Levels, New: func(w io.Writer, level int) writer.GzipWriter {
			return reuseEncoded(w, encodingGzip, func(w io.Writer) compressor { return gzkp.NewWriter(w, level) })
		}}),
		gzhttp.ZstdImplementation(writer.ZstdWriterFactory{Levels: zstdkp.Levels, New: func(w io.Writer, level int) writer.ZstdWriter {
			return reuseEncoded(w, encodingZstd, func(w io.Writer) compressor { return zstdkp.NewWriter(w, level) })
		}}),
	)
	if err != nil {
		panic(err)
	}
	return compression{query: query, plain: plain}
}

// compressor is what gzhttp writes the body through, gzip or zstd.
type compressor interface {
	Write(p []byte) (int, error)
	Close() error
	Flush() error
}

// reuseEncoded returns the compressor for one answer. w is the response
// writer gzhttp wraps: a *deliveryWriter on /query. When the answer is a
// response-cache entry that holds this encoding, the identity bytes
// written are dropped and the kept encoding is written at Close; when it
// does not, the new encoding is recorded into the entry.
func reuseEncoded(w io.Writer, encoding string, open func(io.Writer) compressor) compressor {
	dw, ok := w.(*deliveryWriter)
	if !ok || dw.st.cached == nil || dw.st.rc == nil {
		return open(w)
	}
	if kept := dw.st.rc.encoded(dw.st.cached, encoding); kept != nil {
		return &replay{w: w, body: kept}
	}
	rec := &recorder{sink: &tee{w: w}, st: dw.st, encoding: encoding}
	rec.compressor = open(rec.sink)
	return rec
}

// replay writes an encoding kept earlier instead of compressing again.
type replay struct {
	w    io.Writer
	body encodedBody
}

func (r *replay) Write(p []byte) (int, error) { return len(p), nil }
func (r *replay) Flush() error                { return nil }
func (r *replay) Close() error {
	_, err := r.body.WriteTo(r.w)
	return err
}

// recorder compresses as usual into a tee, and gives the response cache
// the tee's copy when the body is complete: the copy itself, not a copy of
// it.
type recorder struct {
	compressor
	sink     *tee
	st       *delivery
	encoding string
}

func (r *recorder) Close() error {
	err := r.compressor.Close()
	if err == nil && !r.sink.failed {
		r.st.rc.keepEncoded(r.st.cached, r.encoding, r.sink.out)
	}
	return err
}

// tee is where a recorder's compressor writes: the client, and a copy.
type tee struct {
	w      io.Writer
	out    encodedBody
	failed bool
}

func (t *tee) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		t.failed = true
	}
	t.out.Write(p[:n])
	return n, err
}

// deliveryWriter is the response writer gzhttp wraps on /query: through it
// the writer factory finds the request's delivery state.
type deliveryWriter struct {
	http.ResponseWriter
	st *delivery
}

func (w *deliveryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *deliveryWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

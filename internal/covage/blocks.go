package covage

import "strings"

// stringBlocks copies strings into shared blocks: one allocation for many
// records' strings where each record took one. A string kept keeps its
// block alive, as a record keeps its list's. The first block is the size
// of the first string, so a decode of one record (a billing site) holds
// no more than before; the next ones double from blockMin to blockMax.
type stringBlocks struct {
	b    strings.Builder
	next int
}

const (
	blockMin = 256
	blockMax = 16 << 10
)

// keep returns a copy of s in the current block. A builder never changes
// the bytes it has written, so the strings it returned stay valid as it
// grows or is reset.
func (bs *stringBlocks) keep(s string) string {
	if s == "" {
		return ""
	}
	bs.reserve(len(s))
	start := bs.b.Len()
	bs.b.WriteString(s)
	return bs.b.String()[start:]
}

// keepBytes is keep for bytes.
func (bs *stringBlocks) keepBytes(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	bs.reserve(len(s))
	start := bs.b.Len()
	bs.b.Write(s)
	return bs.b.String()[start:]
}

// reserve starts a new block unless n bytes fit in the current one.
func (bs *stringBlocks) reserve(n int) {
	if bs.b.Cap()-bs.b.Len() >= n {
		return
	}
	bs.b.Reset()
	bs.b.Grow(max(bs.next, n))
	bs.next = min(max(2*bs.next, blockMin), blockMax)
}

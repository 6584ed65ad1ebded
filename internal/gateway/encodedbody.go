package gateway

import "io"

// encodedBody is a compressed answer kept by the response cache, as the
// pieces it was written in rather than one slice: it is recorded while it
// is sent, so its length is not known until the end, and a slice grown by
// doubling and then trimmed would allocate it about three times over.
// Once kept it is never written to again, so the replays of many requests
// may read it at once.
type encodedBody [][]byte

// Pieces start small, so a small answer wastes little, and double up to a
// bound, so a large one needs few and wastes at most the last one's spare
// room.
const (
	minEncodedPiece = 4 << 10
	maxEncodedPiece = 256 << 10
)

// Write copies p into the body's pieces; it never fails.
func (b *encodedBody) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(*b) - 1
		if last < 0 || len((*b)[last]) == cap((*b)[last]) {
			size := minEncodedPiece
			if last >= 0 {
				size = min(2*cap((*b)[last]), maxEncodedPiece)
			}
			*b = append(*b, make([]byte, 0, size))
			last++
		}
		piece := (*b)[last]
		k := min(len(p), cap(piece)-len(piece))
		(*b)[last] = append(piece, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// WriteTo writes the pieces in order.
func (b encodedBody) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, piece := range b {
		k, err := w.Write(piece)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// size is the memory the body holds: its pieces' capacity.
func (b encodedBody) size() int {
	n := 0
	for _, piece := range b {
		n += cap(piece)
	}
	return n
}

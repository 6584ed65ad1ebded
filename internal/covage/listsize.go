package covage

import "sync"

// listSizes remembers how many records each list URL returned last time,
// so that the next read of it decodes into a slice of that size: without
// it, a 50,000-door list was decoded into blocks and then copied into one
// slice, holding it twice (23 MB) while it was joined. It belongs to one
// Client and is bounded: past maxListSizes URLs it starts again, so that
// callers' filters cannot grow it without limit.
type listSizes struct {
	mu sync.Mutex
	n  map[string]int
}

// maxListSizes bounds the URLs remembered; the gateway reads a handful.
const maxListSizes = 256

// capacity returns the capacity to decode the list at url into: the
// length it had last time plus a sixteenth for growth, at most
// maxPrealloc, the most taken on trust from a DRF "count".
func (s *listSizes) capacity(url string) int {
	s.mu.Lock()
	n := s.n[url]
	s.mu.Unlock()
	return min(n+n/16, maxPrealloc)
}

// remember records the length of the list read at url.
func (s *listSizes) remember(url string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil || len(s.n) >= maxListSizes {
		s.n = make(map[string]int)
	}
	s.n[url] = n
}

package connection

import (
	"reflect"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Bounds of an Indexes store.
const (
	DefaultIndexRecords = 200_000
	maxIndexes          = 256
	maxSeen             = 4 * maxIndexes
)

// Indexes keeps the index of each list version in use, so that every
// request reading the same cached list searches the same index. A version
// is the list value itself: the shared cache hands every request the same
// slice while the entry is fresh, and a new slice when it refreshes, so
// the index can never be older than the list. Indexes belongs to one
// server (it hangs off graph.Resolver), and is bounded by the records its
// indexes cover, least recently used first out.
//
// A version is kept from the second time it is seen: the first time only
// its address is noted, without holding the list. With the shared cache
// off every request gets a list of its own, and keeping their indexes
// would only hold on to lists nobody reads again.
//
// The zero value is not usable; a nil *Indexes builds a fresh index for
// every call.
type Indexes struct {
	mu      sync.Mutex
	lru     *lru.Cache[version, any]
	seen    *lru.Cache[seenVersion, struct{}]
	records int
	budget  int
}

// version names one list value: its connection, its first element's
// address and its length. Holding the address keeps the slice alive while
// its index is kept, so no other list can take that address meanwhile.
type version struct {
	conn  string
	first any
	n     int
}

// seenVersion names a list value without holding it. Once the list is
// collected its address may be reused by another list, which is then
// taken for seen: that only keeps an index one sighting early.
type seenVersion struct {
	conn string
	addr uintptr
	n    int
}

// NewIndexes returns a store whose indexes cover at most records records
// (DefaultIndexRecords when records <= 0).
func NewIndexes(records int) *Indexes {
	if records <= 0 {
		records = DefaultIndexRecords
	}
	s := &Indexes{budget: records}
	s.lru, _ = lru.NewWithEvict(maxIndexes, func(k version, _ any) { s.records -= k.n })
	s.seen, _ = lru.New[seenVersion, struct{}](maxSeen)
	return s
}

// For returns the index of list, shared with every other caller that has
// the same list value once that value has been seen before.
func For[T any](s *Indexes, spec *Spec[T], list []*T) *Index[T] {
	if s == nil || len(list) == 0 {
		return NewIndex(spec, list)
	}
	k := version{conn: spec.Name, first: &list[0], n: len(list)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.lru.Get(k); ok {
		return v.(*Index[T])
	}
	sk := seenVersion{conn: spec.Name, addr: reflect.ValueOf(list).Pointer(), n: len(list)}
	if _, ok := s.seen.Get(sk); !ok {
		s.seen.Add(sk, struct{}{})
		return NewIndex(spec, list)
	}
	s.seen.Remove(sk)
	ix := NewIndex(spec, list)
	ix.kept = true
	// Evictions run inside Add and RemoveOldest, under s.mu.
	s.lru.Add(k, ix)
	s.records += len(list)
	for s.records > s.budget && s.lru.Len() > 1 {
		s.lru.RemoveOldest()
	}
	return ix
}

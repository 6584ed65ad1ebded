package connection

import (
	"fmt"
	"math/bits"
	"slices"
)

// Page sizes of the contract.
const (
	DefaultPage = 20
	MaxPage     = 100
)

// InputError is a connection argument the contract refuses: the field is
// null with extensions.code BAD_USER_INPUT.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}

// Args are a connection's arguments, as the client sent them.
type Args struct {
	Search *string
	// Order is the order field (the schema's enum value); "" keeps Covage's
	// order.
	Order string
	Desc  bool
	First *int
	After *string
	Last  *int
	// Before is the cursor the page ends before.
	Before *string
}

// Query is a connection request checked against the contract, ready to run
// on any version of the list.
type Query struct {
	conn          string
	terms         []string
	order         orderName
	ordered       bool
	n             int  // page size
	fromEnd       bool // last rather than first
	after, before *cursor
}

// Parse checks a for the connection named conn. It needs no data, so a
// refused request costs no upstream call.
func Parse(conn string, a Args) (Query, error) {
	q := Query{conn: conn, n: DefaultPage}
	switch {
	case a.First != nil && a.Last != nil:
		return q, inputErrorf("first and last cannot be used together")
	case a.First != nil:
		q.n = *a.First
	case a.Last != nil:
		q.n, q.fromEnd = *a.Last, true
	}
	if q.n < 0 || q.n > MaxPage {
		name := "first"
		if q.fromEnd {
			name = "last"
		}
		return q, inputErrorf("%s must be between 0 and %d", name, MaxPage)
	}
	if a.Order != "" {
		q.order, q.ordered = orderName{field: a.Order, desc: a.Desc}, true
	}
	for _, c := range []struct {
		name string
		text *string
		dst  **cursor
	}{{"after", a.After, &q.after}, {"before", a.Before, &q.before}} {
		if c.text == nil {
			continue
		}
		cur, err := decodeCursor(*c.text, conn, q.orderText())
		if err != nil {
			return q, inputErrorf("%s: %v", c.name, err)
		}
		*c.dst = &cur
	}
	if a.Search != nil {
		q.terms = essential(Terms(*a.Search))
	}
	return q, nil
}

// orderText names the order in cursors: "" for Covage's order.
func (q *Query) orderText() string {
	if !q.ordered {
		return ""
	}
	if q.order.desc {
		return q.order.field + ":DESC"
	}
	return q.order.field + ":ASC"
}

// Page is one page of a connection.
type Page[T any] struct {
	Nodes   []*T
	Total   int
	HasNext bool
	HasPrev bool

	q     *Query
	ix    *Index[T]
	o     *ordering
	ranks []int // of Nodes
}

// Cursor returns the cursor of the page's i-th node.
func (p *Page[T]) Cursor(i int) string {
	rec := p.ranks[i]
	c := cursor{Version: cursorVersion, Conn: p.q.conn, Order: p.q.orderText()}
	if p.o != nil {
		rec = int(p.o.perm[rec])
		c.Value = p.o.vals[rec]
	}
	c.Key, c.Pos = p.ix.spec.Key(p.ix.list[rec]), rec
	return c.encode()
}

// Run answers q from the index. Records are placed by rank: their position
// in the order (Covage's, when there is none).
func Run[T any](ix *Index[T], q Query) *Page[T] {
	p := &Page[T]{q: &q, ix: ix}
	n := ix.Len()
	if q.ordered {
		p.o = ix.ordering(q.order)
	}
	m := matches{n: n, all: true, count: n}
	if len(q.terms) > 0 {
		m = p.searched(q.terms)
	}
	p.Total = m.count
	lo, hi := 0, n
	if q.after != nil {
		lo = p.seek(q.after, true)
	}
	if q.before != nil {
		hi = p.seek(q.before, false)
	}
	hi = max(hi, lo)
	start, end := lo, lo
	if q.fromEnd {
		start, end = hi, hi
		for r := m.prev(hi); r >= lo && len(p.ranks) < q.n; r = m.prev(r) {
			p.ranks = append(p.ranks, r)
		}
		for i, j := 0, len(p.ranks)-1; i < j; i, j = i+1, j-1 {
			p.ranks[i], p.ranks[j] = p.ranks[j], p.ranks[i]
		}
	} else {
		for r := m.next(lo); r < hi && len(p.ranks) < q.n; r = m.next(r + 1) {
			p.ranks = append(p.ranks, r)
		}
	}
	if len(p.ranks) > 0 {
		start, end = p.ranks[0], p.ranks[len(p.ranks)-1]+1
	}
	p.HasNext = m.next(end) < n
	p.HasPrev = m.prev(start) >= 0
	p.Nodes = make([]*T, len(p.ranks))
	for i, r := range p.ranks {
		if p.o != nil {
			r = int(p.o.perm[r])
		}
		p.Nodes[i] = ix.list[r]
	}
	return p
}

// searched returns the records matching terms, by rank. In Covage's order
// a record's rank is its position, so the matches, found in that order,
// are used as they are (for a lone three-byte term, the index's own
// posting list: nothing is copied); in another order they are marked in
// a bit set by rank.
func (p *Page[T]) searched(terms []string) matches {
	found := p.ix.search(terms)
	if p.o == nil {
		return matches{n: p.ix.Len(), count: len(found), listed: true, sorted: found}
	}
	m := matches{n: p.ix.Len(), count: len(found), bits: make([]uint64, (p.ix.Len()+63)/64)}
	for _, i := range found {
		r := int(i)
		if p.o != nil {
			r = int(p.o.rank[i])
		}
		m.bits[r/64] |= 1 << (r % 64)
	}
	return m
}

// seek returns the rank a cursor's page starts at (after) or ends before
// (!after). The cursor's record is found by its key; when it is gone, its
// sort value and former position place it among the others.
func (p *Page[T]) seek(c *cursor, after bool) int {
	n := p.ix.Len()
	pos, found := p.ix.find(c.Key, c.Pos)
	if !found {
		pos = c.Pos
	}
	var r int
	exact := false
	if p.o == nil {
		r, exact = min(pos, n), found
	} else {
		r = p.o.before(c.Value, pos)
		exact = found && r < n && int(p.o.perm[r]) == pos
	}
	if after && exact {
		r++
	}
	return r
}

// matches is the set of matching records, by rank: every record, the
// ranks in ascending order, or a bit set of ranks.
type matches struct {
	n      int
	all    bool
	count  int
	listed bool // sorted holds the ranks
	sorted []int32
	bits   []uint64
}

// next returns the first matching rank at or after r, or n.
func (m *matches) next(r int) int {
	if r >= m.n {
		return m.n
	}
	if m.all {
		return r
	}
	if m.listed {
		i, _ := slices.BinarySearch(m.sorted, int32(r))
		if i == len(m.sorted) {
			return m.n
		}
		return int(m.sorted[i])
	}
	w := r / 64
	word := m.bits[w] >> (r % 64)
	if word != 0 {
		return r + bits.TrailingZeros64(word)
	}
	for w++; w < len(m.bits); w++ {
		if m.bits[w] != 0 {
			return w*64 + bits.TrailingZeros64(m.bits[w])
		}
	}
	return m.n
}

// prev returns the last matching rank before r, or -1.
func (m *matches) prev(r int) int {
	r = min(r, m.n) - 1
	if r < 0 {
		return -1
	}
	if m.all {
		return r
	}
	if m.listed {
		i, _ := slices.BinarySearch(m.sorted, int32(r+1))
		if i == 0 {
			return -1
		}
		return int(m.sorted[i-1])
	}
	w := r / 64
	word := m.bits[w] << (63 - r%64)
	if word != 0 {
		return r - bits.LeadingZeros64(word)
	}
	for w--; w >= 0; w-- {
		if m.bits[w] != 0 {
			return w*64 + 63 - bits.LeadingZeros64(m.bits[w])
		}
	}
	return -1
}

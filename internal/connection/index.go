package connection

import (
	"slices"
	"strings"
	"sync"
)

// Spec says how one kind of record is searched, ordered and named.
type Spec[T any] struct {
	// Name names the connection in its cursors, so that a cursor of one
	// connection is refused by another.
	Name string
	// Key returns the record's key, unique in Covage's list (a door's
	// reference): a cursor finds its record by it.
	Key func(*T) string
	// Searched returns the record's searched fields, raw ("" when absent).
	Searched []func(*T) string
	// Orders gives, by order field (the schema's enum value), the raw text
	// the records are sorted by ("" when absent).
	Orders map[string]func(*T) string
}

// sep joins a record's folded fields into one text. A term holding it is
// matched field by field instead (see matchesTerm).
const sep = "\x00"

// Index is the search and order index of one version of a list: the list
// as the shared cache returned it, never modified. Each part is built on
// first use, once, and then read by every request that gets the same
// version: folded texts and, for an index the store keeps (see Indexes),
// posting lists of three-byte grams on the first search (a list fetched
// for one request only is cheaper to scan than to index), the key table on
// the first cursor, and each order on its first use.
type Index[T any] struct {
	spec *Spec[T]
	list []*T

	textOnce sync.Once
	text     []string // by record: its folded searched fields, joined by sep

	kept     bool // by an Indexes store, so searched again: worth its grams
	gramOnce sync.Once
	gramAt   map[uint32]int32 // by gram: its posting list in postings
	postings [][]int32        // the records holding a gram, ascending

	keyOnce sync.Once
	keys    map[string]int32 // by key: the record, or -1-i for dups[i]
	dups    [][]int32

	orderMu sync.Mutex
	orders  map[orderName]*ordering
}

// NewIndex returns the (not yet built) index of list. A nil record, which
// no field could be read from, is left out, in a copy: the list itself is
// shared and never modified.
func NewIndex[T any](spec *Spec[T], list []*T) *Index[T] {
	if slices.Contains(list, nil) {
		list = slices.DeleteFunc(slices.Clone(list), func(rec *T) bool { return rec == nil })
	}
	return &Index[T]{spec: spec, list: list}
}

// Len is the number of records in the list.
func (ix *Index[T]) Len() int { return len(ix.list) }

func (ix *Index[T]) texts() []string {
	ix.textOnce.Do(func() {
		text := make([]string, len(ix.list))
		var b strings.Builder
		for i, rec := range ix.list {
			b.Reset()
			for j, field := range ix.spec.Searched {
				if j > 0 {
					b.WriteString(sep)
				}
				b.WriteString(Fold(field(rec)))
			}
			text[i] = b.String()
		}
		ix.text = text
	})
	return ix.text
}

// gram packs three bytes into a posting-list key.
func gram(s string, at int) uint32 {
	return uint32(s[at])<<16 | uint32(s[at+1])<<8 | uint32(s[at+2])
}

// buildGrams builds the posting lists. The map gives a gram's list's
// place rather than the list, so that appending to a list costs one map
// lookup, not a lookup and a store.
func (ix *Index[T]) buildGrams() {
	ix.gramOnce.Do(func() {
		gramAt := make(map[uint32]int32)
		var postings [][]int32
		for i, t := range ix.texts() {
			for at := 0; at+3 <= len(t); at++ {
				g := gram(t, at)
				k, ok := gramAt[g]
				if !ok {
					k = int32(len(postings))
					gramAt[g] = k
					postings = append(postings, nil)
				}
				if l := postings[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
					postings[k] = append(l, int32(i))
				}
			}
		}
		ix.gramAt, ix.postings = gramAt, postings
	})
}

// posting returns the records holding gram g, ascending.
func (ix *Index[T]) posting(g uint32) []int32 {
	if k, ok := ix.gramAt[g]; ok {
		return ix.postings[k]
	}
	return nil
}

// search returns the records matching every term, in Covage's order.
// With the gram index, the candidates are the records holding the rarest
// three-byte gram of any term (for a lone three-byte term, exactly the
// matches); otherwise every record is a candidate.
func (ix *Index[T]) search(terms []string) []int32 {
	text := ix.texts()
	if ix.kept {
		ix.buildGrams()
		var candidates []int32
		indexed := false // some term has a gram
		for _, t := range terms {
			if strings.Contains(t, sep) {
				continue
			}
			for at := 0; at+3 <= len(t); at++ {
				l := ix.posting(gram(t, at))
				if len(l) == 0 {
					return nil // no record holds this gram, so none holds t
				}
				if !indexed || len(l) < len(candidates) {
					candidates, indexed = l, true
				}
			}
		}
		switch {
		case indexed && len(terms) == 1 && len(terms[0]) == 3:
			// The posting list itself, shared: callers only read it.
			return candidates
		case indexed:
			return filter(candidates, func(i int32) bool { return matchesAll(text[i], terms) })
		}
	}
	out := make([]int32, 0, 64)
	for i, t := range text {
		if matchesAll(t, terms) {
			out = append(out, int32(i))
		}
	}
	return out
}

func filter(ids []int32, keep func(int32) bool) []int32 {
	out := make([]int32, 0, min(len(ids), 64))
	for _, i := range ids {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

func matchesAll(text string, terms []string) bool {
	for _, t := range terms {
		if !matchesTerm(text, t) {
			return false
		}
	}
	return true
}

// matchesTerm reports whether term is a substring of one of the fields
// joined in text. A term holding sep could straddle two fields in the
// joined text, so it is matched against each field on its own.
func matchesTerm(text, term string) bool {
	if !strings.Contains(term, sep) {
		return strings.Contains(text, term)
	}
	for field := range strings.SplitSeq(text, sep) {
		if strings.Contains(field, term) {
			return true
		}
	}
	return false
}

// find returns the record with key, the one nearest to hint when Covage
// sent the key more than once.
func (ix *Index[T]) find(key string, hint int) (int, bool) {
	ix.keyOnce.Do(func() {
		keys := make(map[string]int32, len(ix.list))
		for i, rec := range ix.list {
			k := ix.spec.Key(rec)
			j, seen := keys[k]
			switch {
			case !seen:
				keys[k] = int32(i)
			case j >= 0:
				keys[k] = int32(-1 - len(ix.dups))
				ix.dups = append(ix.dups, []int32{j, int32(i)})
			default:
				ix.dups[-1-j] = append(ix.dups[-1-j], int32(i))
			}
		}
		ix.keys = keys
	})
	j, ok := ix.keys[key]
	if !ok {
		return 0, false
	}
	if j >= 0 {
		return int(j), true
	}
	best := -1
	for _, i := range ix.dups[-1-j] {
		if best < 0 || abs(int(i)-hint) < abs(best-hint) {
			best = int(i)
		}
	}
	return best, true
}

func abs(x int) int { return max(x, -x) }

// orderName is an order field and direction.
type orderName struct {
	field string
	desc  bool
}

// ordering is the list sorted by one field in one direction: by folded
// value, then by position in Covage's list (a stable sort, in either
// direction).
type ordering struct {
	once sync.Once
	desc bool
	vals []string // by record: the folded value
	perm []int32  // by rank: the record
	rank []int32  // by record: its rank
}

func (ix *Index[T]) ordering(name orderName) *ordering {
	ix.orderMu.Lock()
	o := ix.orders[name]
	if o == nil {
		if ix.orders == nil {
			ix.orders = make(map[orderName]*ordering)
		}
		o = &ordering{desc: name.desc}
		ix.orders[name] = o
	}
	ix.orderMu.Unlock()
	o.once.Do(func() {
		value := ix.spec.Orders[name.field]
		n := len(ix.list)
		o.vals = make([]string, n)
		o.perm = make([]int32, n)
		o.rank = make([]int32, n)
		for i, rec := range ix.list {
			o.vals[i] = Fold(value(rec))
			o.perm[i] = int32(i)
		}
		slices.SortFunc(o.perm, func(a, b int32) int { return o.compare(o.vals[a], int(a), o.vals[b], int(b)) })
		for r, i := range o.perm {
			o.rank[i] = int32(r)
		}
	})
	return o
}

// compare orders (value, position) pairs: by value in the order's
// direction, then by position in Covage's list.
func (o *ordering) compare(va string, a int, vb string, b int) int {
	c := strings.Compare(va, vb)
	if o.desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return a - b
}

// before returns how many records sort before (value, pos).
func (o *ordering) before(value string, pos int) int {
	r, _ := slices.BinarySearchFunc(o.perm, 0, func(i int32, _ int) int {
		return o.compare(o.vals[i], int(i), value, pos)
	})
	return r
}

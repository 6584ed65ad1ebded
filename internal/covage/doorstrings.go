package covage

// doorFields gives the doors of one long list read shared copies of the
// values that repeat from door to door.
//
// Covage documents name and short_name as the customer's, the same on
// every door the customer owns, and a door's DSP and delivery mode take a
// few values. Each of those four fields of a door points to a copy of its
// value shared by every door with the same value, so a door's record
// needs no string of its own for them (enniRecord): 64 bytes a door.
// The strings that are a door's own (code, reference, label) are copied
// into blocks (stringBlocks), so that the raw records' strings, which
// hold every field's text, offer and flag included, are garbage once
// mapped.
//
// A list whose values do not repeat costs no more memory than before: a
// table stops taking values at maxShared, and one that is full with fewer
// hits than values is no longer asked. Its values then get a string each
// from a slab, as they had one each in their record.
//
// Sharing and copying cost CPU a door (BenchmarkMapEnnis), and save
// memory a door. Below shareFrom doors the memory is not worth it, and
// the doors point into the raw records' strings, each value with a string
// of its own from a slab.
type doorFields struct {
	stringBlocks // the doors' own strings
	tables       [doorSharedFields]sharedTable
	slab         []string
	long         bool // the list has shareFrom doors or room for them
}

// shareFrom is the length from which a list's doors share their values
// and copy their own strings. At 50,000 doors that takes a fifth off the
// CPU of a request that reads them (the collector marks less); at 2,000
// it costs a profile's 8 %, and at 10,000 it measured even.
const shareFrom = 8192

// The fields whose doors point to a shared copy of their value.
const (
	doorName = iota
	doorShortName
	doorDsp
	doorDeliveryMode
	doorSharedFields
)

// maxShared bounds the values a table takes from one list read.
const maxShared = 64

// slabSize is how many strings a slab allocation holds.
const slabSize = 128

// sharedTable maps a field's values to their shared copy. last is the
// value found last, which a list of one customer's doors, or sorted by
// the field, asks for again at once.
type sharedTable struct {
	values map[string]*string
	last   *string
	hits   int
	off    bool // full with fewer hits than values: no longer asked
}

// get returns the shared copy of s, or nil.
func (t *sharedTable) get(s string) *string {
	if t.last != nil && *t.last == s {
		t.hits++
		return t.last
	}
	if t.off {
		return nil
	}
	p := t.values[s]
	if p != nil {
		t.hits++
		t.last = p
	}
	return p
}

// put shares p, while the table has room.
func (t *sharedTable) put(p *string) {
	if len(t.values) >= maxShared {
		t.off = t.hits < len(t.values)
		return
	}
	if t.values == nil {
		t.values = make(map[string]*string)
	}
	t.values[*p] = p
	t.last = p
}

// pointer returns a pointer to the value of t for field f (doorName...),
// shared by every door of a long list with the same value, or nil when t
// is absent. Nothing writes through a door's fields.
func (d *doorFields) pointer(f int, t *text) *string {
	if !t.ok {
		return nil
	}
	if !d.long {
		return d.slabbed(t.s)
	}
	table := &d.tables[f]
	if p := table.get(t.s); p != nil {
		return p
	}
	p := d.slabbed(d.keep(t.s))
	table.put(p)
	return p
}

// own returns a door's own string: a copy in a long list, so that the raw
// record's strings are garbage once mapped.
func (d *doorFields) own(s string) string {
	if !d.long {
		return s
	}
	return d.keep(s)
}

// slabbed returns a pointer to s in the slab.
func (d *doorFields) slabbed(s string) *string {
	if len(d.slab) == cap(d.slab) {
		d.slab = make([]string, 0, slabSize)
	}
	d.slab = append(d.slab, s)
	return &d.slab[len(d.slab)-1]
}

package plan

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Fast lists: gqlgen marshals every object of a list in its own goroutine,
// with a field context, a context value and a field set per object and per
// field. For `{ projects { ennis { reference } } }` that is 20,000 objects
// and most of the gateway's CPU. FastLists is a field middleware that writes
// a list of objects straight to JSON when every field selected on them is a
// plain leaf bound to a struct field or method (no resolver, no argument, no
// sub-selection, no @defer): the common shape of dropdown and lookup
// queries. One level of relation is also written directly: a relation field
// without arguments (Project.ennis, Enni.projects) whose own selection is
// leaves only, when the list it reads is already fetched or in flight in
// this request (look-ahead started it), so answering it needs no batching
// wait. The finished bytes go to gqlgen as a graphql.Marshaler, which
// gqlgen's resolveField accepts from a middleware in place of the typed
// result. Anything else (a deeper relation, an unknown field, a nil element
// in a non-null list, a relation that fails or would have to wait) falls
// back to gqlgen unchanged, so the output is the same byte for byte;
// graph/fastlist_test.go checks it field by field.
//
// The writers are typed: object[T] holds func(*out, *T) per leaf
// and link[P, C] a relation from P to C, so the compiler checks that each
// writer reads the type it is given. The one run-time check is where
// gqlgen hands over its result as `any`: listPlan[T].prepare asserts []*T.

// FastLists is the field middleware; install it with AroundFields.
func (p *Planner) FastLists(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return next(ctx)
	}
	elem := fc.Field.Definition.Type.Elem
	if elem == nil || elem.NamedType == "" {
		return next(ctx)
	}
	t, ok := p.types[elem.NamedType]
	if !ok {
		return next(ctx)
	}
	c, size, ok := p.collectMemo(t, graphql.GetOperationContext(ctx), fc.Field.Selections)
	if !ok {
		return next(ctx)
	}
	res, err := next(ctx)
	if err != nil || res == nil {
		return res, err
	}
	if m, ok := c.prepare(ctx, res, elem.NonNull, size); ok {
		return m, nil
	}
	return res, nil
}

// lister is an object type whose lists the fast path may write.
type lister interface {
	// plan collects sel for a list of this type; false means gqlgen
	// writes it.
	plan(oc *graphql.OperationContext, sel ast.SelectionSet) (compiled, bool)
	writable() []string
}

// compiled is a collected selection, ready for any list of its type.
type compiled interface {
	// prepare checks that res, gqlgen's result, can be written with the
	// selection and loads its relations; false means fall back to gqlgen.
	prepare(ctx context.Context, res any, nonNullElems bool, size *atomic.Int64) (graphql.Marshaler, bool)
}

// object writes lists of the GraphQL object type T.
type object[T any] struct {
	name         string
	implementors []string
	// leaves are the leaf fields the fast path knows, by schema name.
	leaves map[string]func(*out, *T)
	// relations are the list fields it can answer from a per-request index.
	relations map[string]relation[T]
}

// relation is a list field of T's objects, read without waiting for a
// batch.
type relation[T any] interface {
	// bind collects the relation's own selection, which must be leaves.
	bind(oc *graphql.OperationContext, f graphql.CollectedField) (boundRelation[T], bool)
}

// boundRelation is a relation with its selection.
type boundRelation[T any] interface {
	// load reads the relation of every non-nil parent; false when one
	// would need a batching wait, fails, or cannot be written.
	load(ctx context.Context, parents []*T) (loadedRelation, bool)
}

// loadedRelation writes the relation of the i-th non-nil parent.
type loadedRelation interface {
	write(b *out, i int, stop func(int) bool)
	// least is the fewest bytes the relations of all parents take.
	least() int64
}

// link is a relation from P to a list of C.
type link[P, C any] struct {
	child *object[C]
	// load returns ok false when the answer would need a batching wait.
	load func(context.Context, *P) (list []*C, ok bool, err error)
}

// selected is one collected field, duplicates of a response key removed
// (the first wins, as in gqlgen's field sets).
type selected[T any] struct {
	// key is the field's response key as JSON, with the separator before
	// it: `"code":` or `,"code":`.
	key string
	// leaf writes a leaf; nil for __typename and relations.
	leaf func(*out, *T)
	rel  boundRelation[T]
}

// listPlan is a collected selection on T.
type listPlan[T any] struct {
	obj    *object[T]
	fields []selected[T]
}

func (o *object[T]) plan(oc *graphql.OperationContext, sel ast.SelectionSet) (compiled, bool) {
	fields, ok := o.collect(oc, sel, true)
	if !ok {
		return nil, false
	}
	return listPlan[T]{obj: o, fields: fields}, true
}

func (o *object[T]) writable() []string {
	out := make([]string, 0, len(o.leaves)+len(o.relations))
	for name := range o.leaves {
		out = append(out, name)
	}
	for name := range o.relations {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// collect resolves the selection set (fragments, @skip, @include) as gqlgen
// does and reports whether every field is a known leaf or, when relations
// is true, a known relation without arguments whose selection is leaves
// only.
func (o *object[T]) collect(oc *graphql.OperationContext, sel ast.SelectionSet, relations bool) ([]selected[T], bool) {
	if oc == nil {
		return nil, false
	}
	collected := graphql.CollectFields(oc, sel, o.implementors)
	out := make([]selected[T], 0, len(collected))
	seen := make(map[string]bool, len(collected))
	for _, f := range collected {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		if seen[f.Alias] {
			continue
		}
		seen[f.Alias] = true
		s := selected[T]{key: jsonKey(f.Alias, len(out) == 0)}
		switch {
		case f.Name == "__typename":
		case len(f.Selections) == 0:
			w, ok := o.leaves[f.Name]
			if !ok {
				return nil, false
			}
			s.leaf = w
		default:
			r, ok := o.relations[f.Name]
			if !ok || !relations {
				return nil, false
			}
			if s.rel, ok = r.bind(oc, f); !ok {
				return nil, false
			}
		}
		out = append(out, s)
	}
	return out, len(out) > 0
}

// fits reports whether list can be written as a list whose elements are
// non-null when nonNullElems.
func fits[T any](list []*T, nonNullElems bool) bool {
	return list != nil && (!nonNullElems || !slices.Contains(list, nil))
}

func (p listPlan[T]) prepare(ctx context.Context, res any, nonNullElems bool, size *atomic.Int64) (graphql.Marshaler, bool) {
	list, ok := res.([]*T)
	if !ok || !fits(list, nonNullElems) {
		return nil, false
	}
	var loaded []loadedRelation
	for _, s := range p.fields {
		if s.rel == nil {
			continue
		}
		l, ok := s.rel.load(ctx, list)
		if !ok {
			return nil, false
		}
		loaded = append(loaded, l)
	}
	return &rendered[T]{plan: p, list: list, loaded: loaded, size: size, stop: stopOf(ctx), streams: StreamsOf(ctx)}, true
}

// write appends list to b, and stops early when stop, asked with b's length
// after each item, says so (the response budget: the answer is then
// dropped whole). loaded holds the selected relations in order, each
// indexed by the non-nil items of list.
func (p listPlan[T]) write(b *out, list []*T, loaded []loadedRelation, stop func(int) bool) {
	b.byte('[')
	n := 0
	for i, v := range list {
		if i > 0 {
			b.byte(',')
			if stop(len(b.b)) {
				return
			}
		}
		if v == nil {
			b.str("null")
			continue
		}
		b.byte('{')
		rel := 0
		for _, s := range p.fields {
			b.str(s.key)
			switch {
			case s.rel != nil:
				loaded[rel].write(b, n, stop)
				rel++
			case s.leaf == nil:
				writeQuoted(b, p.obj.name)
			default:
				s.leaf(b, v)
			}
		}
		b.byte('}')
		n++
	}
	b.byte(']')
}

func (l *link[P, C]) bind(oc *graphql.OperationContext, f graphql.CollectedField) (boundRelation[P], bool) {
	if f.Definition == nil || f.Definition.Type.Elem == nil {
		return nil, false
	}
	fields, ok := l.child.collect(oc, f.Selections, false)
	if !ok {
		return nil, false
	}
	return &boundLink[P, C]{link: l, field: f, list: listPlan[C]{obj: l.child, fields: fields}, nonNullElems: f.Definition.Type.Elem.NonNull}, true
}

// boundLink is a link with its field and selection.
type boundLink[P, C any] struct {
	link         *link[P, C]
	field        graphql.CollectedField
	list         listPlan[C]
	nonNullElems bool
}

func (r *boundLink[P, C]) load(ctx context.Context, parents []*P) (loadedRelation, bool) {
	out := loadedLists[C]{plan: r.list, lists: make([][]*C, 0, len(parents))}
	// Stale answers are recorded, then reported at the field of each
	// parent whose load read them (stale.go), and only if the fast path
	// answers.
	lctx, stale := recordStale(ctx)
	var staleParents []int
	for i, v := range parents {
		if v == nil {
			continue
		}
		before := stale.count()
		list, ok, err := r.link.load(lctx, v)
		if !ok || err != nil || !fits(list, r.nonNullElems) {
			return nil, false
		}
		out.lists = append(out.lists, list)
		if stale.count() > before {
			staleParents = append(staleParents, i)
		}
	}
	stale.reportEach(ctx, graphql.GetFieldContext(ctx), r.field, staleParents)
	return out, true
}

// loadedLists are a relation's lists, one per non-nil parent.
type loadedLists[C any] struct {
	plan  listPlan[C]
	lists [][]*C
}

func (l loadedLists[C]) write(b *out, i int, stop func(int) bool) {
	l.plan.write(b, l.lists[i], nil, stop)
}

func (l loadedLists[C]) least() int64 {
	var n int64
	for _, list := range l.lists {
		n += l.plan.least(len(list))
	}
	return n
}

// least is the fewest bytes a list of n items takes with this selection,
// its relations left out: brackets, commas, braces, keys, and a byte per
// value. It needs no item, so a list's first answer, whose size is not
// known yet, can still be streamed when it is surely large.
func (p listPlan[T]) least(n int) int64 {
	item := int64(2)
	for _, s := range p.fields {
		item += int64(len(s.key)) + 1
	}
	return 2 + int64(max(n-1, 0)) + int64(n)*item
}

// rendered is a prepared list. gqlgen calls MarshalGQL once, when it writes
// the response, so the list goes straight into gqlgen's response buffer
// with no copy of its own.
type rendered[T any] struct {
	plan   listPlan[T]
	list   []*T
	loaded []loadedRelation
	// size, when known, is how many bytes the same selection took last
	// time: the buffer grows once to fit rather than doubling its way up
	// (a 500 KB answer otherwise allocates and copies about 1 MB more).
	// The room left for growth is a sixteenth: the buffer is the one copy
	// of the answer, which the response cache keeps as it is only while
	// its spare capacity is under an eighth (internal/gateway/respcache.go);
	// more, and every answer kept would be copied once more.
	size *atomic.Int64
	stop func(int) bool
	// streams, when the transport installed it, takes a list whose
	// selection was large last time: it is written at delivery
	// (streams.go), and a mark stands for it in gqlgen's buffer.
	streams *Streams
}

// least is the fewest bytes the list takes, relations included; 0 when
// nothing could stream it.
func (r *rendered[T]) least() int64 {
	if r.streams == nil || r.streams.Min <= 0 {
		return 0
	}
	n := r.plan.least(len(r.list))
	for _, l := range r.loaded {
		n += l.least()
	}
	return n
}

// MarshalGQL writes the list. Into gqlgen's buffer, it appends to the
// buffer's spare room, grown first to the size the same selection took
// last time: when that was enough, handing the bytes back to the buffer
// copies them onto themselves, and the answer still has one buffer.
func (r *rendered[T]) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		var o out
		r.plan.write(&o, r.list, r.loaded, r.stop)
		_, _ = w.Write(o.b)
		return
	}
	var n int64
	if r.size != nil {
		n = r.size.Load()
	}
	if r.streams.take(r, max(n, r.least())) {
		b.WriteByte(0)
		return
	}
	if r.size != nil {
		b.Grow(int(n + n/16))
	}
	// The response budget counts the whole answer, not this list alone.
	start := b.Len()
	stop := r.stop
	if start > 0 {
		stop = func(n int) bool { return r.stop(start + n) }
	}
	o := &out{b: b.AvailableBuffer()}
	r.plan.write(o, r.list, r.loaded, stop)
	b.Write(o.b)
	if r.size != nil {
		r.size.Store(int64(len(o.b)))
	}
}

// jsonKey returns `"alias":`, after a comma unless first.
func jsonKey(alias string, first bool) string {
	var b out
	if !first {
		b.byte(',')
	}
	writeQuoted(&b, alias)
	b.byte(':')
	return string(b.b)
}

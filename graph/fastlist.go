package graph

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
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
// fastlist_test.go checks it field by field.

// FastLists is the field middleware; install it with AroundFields.
func FastLists(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return next(ctx)
	}
	elem := fc.Field.Definition.Type.Elem
	if elem == nil || elem.NamedType == "" {
		return next(ctx)
	}
	t, ok := leafTypes[elem.NamedType]
	if !ok {
		return next(ctx)
	}
	fields, size, ok := t.collectMemo(graphql.GetOperationContext(ctx), fc.Field.Selections)
	if !ok {
		return next(ctx)
	}
	res, err := next(ctx)
	if err != nil || res == nil {
		return res, err
	}
	loaded, ok := t.prepare(ctx, res, fields, elem.NonNull)
	if !ok {
		return res, nil
	}
	return &rendered{t: t, list: res, fields: fields, loaded: loaded, size: size, budget: budgetOf(ctx)}, nil
}

// leafType writes lists of one GraphQL object type.
type leafType struct {
	name        string
	implementor []string
	// fields are the leaf fields the fast path knows, by schema name.
	fields map[string]any
	// relations are the list fields it can answer from a per-request index.
	relations map[string]relation
	// prepare checks that the list res (a slice of pointers) can be written
	// with the selected fields and loads their relations, in the order
	// write reads them; false means fall back to gqlgen.
	prepare func(ctx context.Context, res any, sel []selected, nonNullElems bool) (loaded []any, ok bool)
	// write appends the prepared list to b, and stops early when stop,
	// asked with b's length after each item, says so (the response budget:
	// the answer is then dropped whole).
	write func(b *bytes.Buffer, res any, sel []selected, loaded []any, stop func(int) bool)
}

// relation is a list field of objects of type T, read without waiting for
// a batch.
type relation struct {
	// child names the element type in leafTypes.
	child string
	// load is a func(context.Context, *T) (list any, ok bool, err error):
	// ok is false when the answer would need a batching wait.
	load any
}

// selected is one collected field, duplicates of a response key removed
// (the first wins, as in gqlgen's field sets).
type selected struct {
	// key is the field's response key as JSON, with the separator before
	// it: `"code":` or `,"code":`.
	key   string
	write any // func(*bytes.Buffer, *T); nil for __typename and relations
	// A relation: its field, loader, element type, selection and
	// nullability.
	field        graphql.CollectedField
	load         any
	child        *leafType
	childFields  []selected
	nonNullElems bool
}

// rendered is a prepared list. gqlgen calls MarshalGQL once, when it writes
// the response, so the list goes straight into gqlgen's response buffer
// with no copy of its own.
type rendered struct {
	t      *leafType
	list   any
	fields []selected
	loaded []any
	// size, when known, is how many bytes the same selection took last
	// time: the buffer grows once to fit rather than doubling its way up
	// (a 500 KB answer otherwise allocates and copies about 1 MB more).
	size *atomic.Int64
	// budget bounds the answer (budget.go); nil when there is none.
	budget *budget
}

// MarshalGQL writes the list.
func (r *rendered) MarshalGQL(w io.Writer) {
	if b, ok := w.(*bytes.Buffer); ok {
		start := b.Len()
		if r.size != nil {
			n := r.size.Load()
			b.Grow(int(n + n/8))
		}
		if r.t.write(b, r.list, r.fields, r.loaded, r.budget.exceeded); r.size != nil {
			r.size.Store(int64(b.Len() - start))
		}
		return
	}
	var b bytes.Buffer
	r.t.write(&b, r.list, r.fields, r.loaded, r.budget.exceeded)
	_, _ = w.Write(b.Bytes())
}

// collectMemo is collect, remembered per selection set of a parsed query
// when it holds no directive, so that the answer cannot depend on the
// variables. gqlgen's query cache keeps the parsed document, so the 500
// Project.ennis fields of one request, and the same query in later
// requests, collect once. The key is the selections themselves (pointers
// into the document), not the field: gqlgen merges the selections of a
// field repeated through fragments, so one field can carry different
// selections in different places. The memo is dropped whole when it
// reaches memoLimit entries, which bounds it without an LRU's bookkeeping.
func (t *leafType) collectMemo(oc *graphql.OperationContext, sel ast.SelectionSet) ([]selected, *atomic.Int64, bool) {
	if len(sel) > len(memoKey{}.sel) || !static(sel, 0) {
		fields, ok := t.collect(oc, sel)
		return fields, nil, ok
	}
	key := memoKey{t: t, n: len(sel)}
	copy(key.sel[:], sel)
	memo.mu.RLock()
	m, hit := memo.m[key]
	memo.mu.RUnlock()
	if hit {
		return m.fields, m.size, m.ok
	}
	fields, ok := t.collect(oc, sel)
	size := new(atomic.Int64)
	memo.mu.Lock()
	if len(memo.m) >= memoLimit {
		clear(memo.m)
	}
	memo.m[key] = memoEntry{fields, size, ok}
	memo.mu.Unlock()
	return fields, size, ok
}

// memoKey identifies a selection set of up to 8 selections by their
// pointers; larger ones are collected every time.
type memoKey struct {
	t   *leafType
	n   int
	sel [8]ast.Selection
}

type memoEntry struct {
	fields []selected
	size   *atomic.Int64 // bytes written last time; see rendered
	ok     bool
}

const memoLimit = 4096

var memo = struct {
	mu sync.RWMutex
	m  map[memoKey]memoEntry
}{m: make(map[memoKey]memoEntry)}

// static reports whether sel, fragments included, carries no directive, so
// that collecting it does not depend on the variables.
func static(sel ast.SelectionSet, depth int) bool {
	if depth > 16 {
		return false
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || !static(s.SelectionSet, depth+1) {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !static(s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 || s.Definition == nil || len(s.Definition.Directives) > 0 || !static(s.Definition.SelectionSet, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// collect resolves the selection set (fragments, @skip, @include) as gqlgen
// does and reports whether every field is a known leaf or, at the first
// level, a known relation without arguments whose selection is leaves only.
func (t *leafType) collect(oc *graphql.OperationContext, sel ast.SelectionSet) ([]selected, bool) {
	return t.collectLevel(oc, sel, true)
}

func (t *leafType) collectLevel(oc *graphql.OperationContext, sel ast.SelectionSet, relations bool) ([]selected, bool) {
	if oc == nil {
		return nil, false
	}
	collected := graphql.CollectFields(oc, sel, t.implementor)
	out := make([]selected, 0, len(collected))
	seen := make(map[string]bool, len(collected))
	for _, f := range collected {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		if seen[f.Alias] {
			continue
		}
		seen[f.Alias] = true
		s := selected{key: jsonKey(f.Alias, len(out) == 0)}
		switch {
		case f.Name == "__typename":
		case len(f.Selections) == 0:
			w, ok := t.fields[f.Name]
			if !ok {
				return nil, false
			}
			s.write = w
		default:
			r, ok := t.relations[f.Name]
			if !ok || !relations || f.Definition == nil || f.Definition.Type.Elem == nil {
				return nil, false
			}
			s.child = leafTypes[r.child]
			if s.childFields, ok = s.child.collectLevel(oc, f.Selections, false); !ok {
				return nil, false
			}
			s.field, s.load, s.nonNullElems = f, r.load, f.Definition.Type.Elem.NonNull
		}
		out = append(out, s)
	}
	return out, len(out) > 0
}

// jsonKey returns `"alias":`, after a comma unless first.
func jsonKey(alias string, first bool) string {
	var b bytes.Buffer
	if !first {
		b.WriteByte(',')
	}
	writeQuoted(&b, alias)
	b.WriteByte(':')
	return b.String()
}

// newLeafType builds the table entry of one object type.
func newLeafType[T any](name string, implementors []string, fields map[string]func(*bytes.Buffer, *T), relations map[string]relationOf[T]) *leafType {
	t := &leafType{name: name, implementor: implementors, fields: make(map[string]any, len(fields)), relations: make(map[string]relation, len(relations))}
	for k, f := range fields {
		t.fields[k] = f
	}
	for k, r := range relations {
		t.relations[k] = relation{child: r.child, load: r.load}
	}
	t.prepare = func(ctx context.Context, res any, sel []selected, nonNullElems bool) ([]any, bool) {
		list, ok := res.([]*T)
		if !ok || list == nil || (nonNullElems && slices.Contains(list, nil)) {
			return nil, false
		}
		var loaded []any
		for _, s := range sel {
			if s.child == nil {
				continue
			}
			if loaded == nil {
				loaded = make([]any, 0, len(list)*len(sel))
			}
			load := s.load.(func(context.Context, *T) (any, bool, error))
			// Stale answers are recorded, then reported at the field of
			// each parent whose load read them (stale.go), and only if the
			// fast path answers.
			lctx, stale := recordStale(ctx)
			var parents []int
			for i, v := range list {
				if v == nil {
					continue
				}
				before := stale.count()
				rel, ok, err := load(lctx, v)
				if !ok || err != nil {
					return nil, false
				}
				if _, ok := s.child.prepare(ctx, rel, s.childFields, s.nonNullElems); !ok {
					return nil, false
				}
				loaded = append(loaded, rel)
				if stale.count() > before {
					parents = append(parents, i)
				}
			}
			stale.reportEach(ctx, graphql.GetFieldContext(ctx), s.field, parents)
		}
		return loaded, true
	}
	t.write = func(b *bytes.Buffer, res any, sel []selected, loaded []any, stop func(int) bool) {
		list := res.([]*T)
		// loaded holds the relations field by field, each in list order.
		stride := 0
		for _, v := range list {
			if v != nil {
				stride++
			}
		}
		b.WriteByte('[')
		n := 0
		for i, v := range list {
			if i > 0 {
				b.WriteByte(',')
				if stop(b.Len()) {
					return
				}
			}
			if v == nil {
				b.WriteString("null")
				continue
			}
			b.WriteByte('{')
			rel := 0
			for _, s := range sel {
				b.WriteString(s.key)
				switch {
				case s.child != nil:
					s.child.write(b, loaded[rel*stride+n], s.childFields, nil, stop)
					rel++
				case s.write == nil:
					writeQuoted(b, name)
				default:
					s.write.(func(*bytes.Buffer, *T))(b, v)
				}
			}
			b.WriteByte('}')
			n++
		}
		b.WriteByte(']')
	}
	return t
}

// relationOf is a relation of T as written in the leafTypes table.
type relationOf[T any] struct {
	child string
	load  func(context.Context, *T) (any, bool, error)
}

// leafTypes are the object types whose lists take the fast path. A field
// missing here only means its lists go through gqlgen.
var leafTypes = map[string]*leafType{
	"Enni": newLeafType("Enni", []string{"Enni", "Node"}, map[string]func(*bytes.Buffer, *domain.Enni){
		"id":           func(b *bytes.Buffer, v *domain.Enni) { writeQuoted(b, v.ID()) },
		"code":         func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Code) },
		"name":         func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Name) },
		"shortName":    func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.ShortName) },
		"reference":    func(b *bytes.Buffer, v *domain.Enni) { writeQuoted(b, v.Reference) },
		"label":        func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Label) },
		"offer":        func(b *bytes.Buffer, v *domain.Enni) { writeOptMarshaler(b, v.Offer) },
		"dsp":          func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Dsp) },
		"deliveryMode": func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.DeliveryMode) },
		"active":       func(b *bytes.Buffer, v *domain.Enni) { writeBool(b, v.Active) },
	}, map[string]relationOf[domain.Enni]{
		"projects": {"Project", func(ctx context.Context, v *domain.Enni) (any, bool, error) {
			if v.ShortName == nil {
				return []*domain.Project{}, true, nil
			}
			return loaders.For(ctx).ProjectsOfClientIndexed(ctx, *v.ShortName)
		}},
	}),
	"Project": newLeafType("Project", []string{"Project", "Node"}, map[string]func(*bytes.Buffer, *domain.Project){
		"id":         func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.ID()) },
		"code":       func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.Code) },
		"active":     func(b *bytes.Buffer, v *domain.Project) { writeBool(b, v.Active) },
		"startDate":  func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.StartDate) },
		"endDate":    func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.EndDate) },
		"clientCode": func(b *bytes.Buffer, v *domain.Project) { writeOptString(b, v.ClientCode) },
	}, map[string]relationOf[domain.Project]{
		"ennis": {"Enni", func(ctx context.Context, v *domain.Project) (any, bool, error) {
			if v.ClientCode == nil {
				return []*domain.Enni{}, true, nil
			}
			return loaders.For(ctx).EnnisOfClientIndexed(ctx, *v.ClientCode, domain.EnniFilter{})
		}},
	}),
	"BillingSite": newLeafType("BillingSite", []string{"BillingSite", "Node"}, map[string]func(*bytes.Buffer, *domain.BillingSite){
		"id":          func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.ID()) },
		"code":        func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.Code) },
		"description": func(b *bytes.Buffer, v *domain.BillingSite) { writeOptString(b, v.Description) },
	}, nil),
	"TerminateReason": newLeafType("TerminateReason", []string{"TerminateReason"}, map[string]func(*bytes.Buffer, *domain.TerminateReason){
		"code":  func(b *bytes.Buffer, v *domain.TerminateReason) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.TerminateReason) { writeQuoted(b, v.Label) },
	}, nil),
	"ChangeReason": newLeafType("ChangeReason", []string{"ChangeReason"}, map[string]func(*bytes.Buffer, *domain.ChangeReason){
		"code":  func(b *bytes.Buffer, v *domain.ChangeReason) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.ChangeReason) { writeQuoted(b, v.Label) },
	}, nil),
	"SiteConnectionType": newLeafType("SiteConnectionType", []string{"SiteConnectionType"}, map[string]func(*bytes.Buffer, *domain.SiteConnectionType){
		"code":  func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeQuoted(b, v.Label) },
	}, nil),
}

func writeBool(b *bytes.Buffer, v bool) {
	if v {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

func writeOptString(b *bytes.Buffer, s *string) {
	if s == nil {
		b.WriteString("null")
		return
	}
	writeQuoted(b, *s)
}

// writeOptMarshaler writes an enum or custom scalar with its own MarshalGQL,
// as gqlgen's generated code does, or null.
func writeOptMarshaler[T graphql.Marshaler](b *bytes.Buffer, v *T) {
	if v == nil {
		b.WriteString("null")
		return
	}
	(*v).MarshalGQL(b)
}

const hexDigits = "0123456789ABCDEF"

// writeQuoted writes s as a JSON string exactly as gqlgen's
// graphql.MarshalString does: only control characters, backslash and the
// double quote are escaped; other bytes, invalid UTF-8 included, are copied.
// It walks bytes, not runes: every byte it escapes is ASCII.
func writeQuoted(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

package graph

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/internal/domain"
)

// Fast lists: gqlgen marshals every object of a list in its own goroutine,
// with a field context, a context value and a field set per object and per
// field. For `{ projects { ennis { reference } } }` that is 20,000 objects
// and most of the gateway's CPU. FastLists is a field middleware that writes
// a list of objects straight to JSON when every field selected on them is a
// plain leaf bound to a struct field or method (no resolver, no argument, no
// sub-selection, no @defer): the common shape of dropdown and lookup
// queries. It hands gqlgen the finished bytes as a graphql.Marshaler, which
// gqlgen's resolveField accepts from a middleware in place of the typed
// result. Anything else (a nested relation, an unknown field, a nil element
// in a non-null list) falls back to gqlgen unchanged, so the output is the
// same byte for byte; fastlist_test.go checks it field by field.

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
	fields, ok := t.collectMemo(graphql.GetOperationContext(ctx), fc.Field.Selections)
	if !ok {
		return next(ctx)
	}
	res, err := next(ctx)
	if err != nil || res == nil {
		return res, err
	}
	if m, ok := t.render(res, fields, elem.NonNull); ok {
		return m, nil
	}
	return res, nil
}

// leafType writes lists of one GraphQL object type.
type leafType struct {
	name        string
	implementor []string
	// fields are the leaf fields the fast path knows, by schema name.
	fields map[string]any
	// render writes the list res (a slice of pointers) with the selected
	// fields, or reports false to fall back.
	render func(res any, sel []selected, nonNullElems bool) (graphql.Marshaler, bool)
}

// selected is one collected field: its response key and how to write it.
type selected struct {
	alias string
	write any // func(*bytes.Buffer, *T), or nil for __typename
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
func (t *leafType) collectMemo(oc *graphql.OperationContext, sel ast.SelectionSet) ([]selected, bool) {
	if len(sel) > len(memoKey{}.sel) || !static(sel, 0) {
		return t.collect(oc, sel)
	}
	key := memoKey{t: t, n: len(sel)}
	copy(key.sel[:], sel)
	memo.mu.RLock()
	m, hit := memo.m[key]
	memo.mu.RUnlock()
	if hit {
		return m.fields, m.ok
	}
	fields, ok := t.collect(oc, sel)
	memo.mu.Lock()
	if len(memo.m) >= memoLimit {
		clear(memo.m)
	}
	memo.m[key] = memoEntry{fields, ok}
	memo.mu.Unlock()
	return fields, ok
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
// does and reports whether every field is a known leaf.
func (t *leafType) collect(oc *graphql.OperationContext, sel ast.SelectionSet) ([]selected, bool) {
	if oc == nil {
		return nil, false
	}
	collected := graphql.CollectFields(oc, sel, t.implementor)
	out := make([]selected, 0, len(collected))
	for _, f := range collected {
		if len(f.Deferrables) > 0 || len(f.Selections) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		if f.Name == "__typename" {
			out = append(out, selected{alias: f.Alias})
			continue
		}
		w, ok := t.fields[f.Name]
		if !ok {
			return nil, false
		}
		out = append(out, selected{alias: f.Alias, write: w})
	}
	return out, len(out) > 0
}

// newLeafType builds the table entry of one object type.
func newLeafType[T any](name string, implementors []string, fields map[string]func(*bytes.Buffer, *T)) *leafType {
	t := &leafType{name: name, implementor: implementors, fields: make(map[string]any, len(fields))}
	for k, f := range fields {
		t.fields[k] = f
	}
	t.render = func(res any, sel []selected, nonNullElems bool) (graphql.Marshaler, bool) {
		list, ok := res.([]*T)
		if !ok {
			return nil, false
		}
		for _, v := range list {
			if v == nil && nonNullElems {
				return nil, false
			}
		}
		b := bytes.NewBuffer(make([]byte, 0, 2+len(list)*(8+24*len(sel))))
		b.WriteByte('[')
		for i, v := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			if v == nil {
				b.WriteString("null")
				continue
			}
			b.WriteByte('{')
			written := 0
			for j, s := range sel {
				if seenAlias(sel[:j], s.alias) {
					continue
				}
				if written > 0 {
					b.WriteByte(',')
				}
				written++
				writeQuoted(b, s.alias)
				b.WriteByte(':')
				if s.write == nil {
					writeQuoted(b, name)
					continue
				}
				s.write.(func(*bytes.Buffer, *T))(b, v)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
		return rendered(b.Bytes()), true
	}
	return t
}

// seenAlias reports whether an earlier field has the same response key; the
// first one wins, as in gqlgen's field sets.
func seenAlias(earlier []selected, alias string) bool {
	for _, s := range earlier {
		if s.alias == alias {
			return true
		}
	}
	return false
}

// rendered is a finished piece of the response.
type rendered []byte

// MarshalGQL writes the bytes.
func (r rendered) MarshalGQL(w io.Writer) { _, _ = w.Write(r) }

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
	}),
	"Project": newLeafType("Project", []string{"Project", "Node"}, map[string]func(*bytes.Buffer, *domain.Project){
		"id":         func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.ID()) },
		"code":       func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.Code) },
		"active":     func(b *bytes.Buffer, v *domain.Project) { writeBool(b, v.Active) },
		"startDate":  func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.StartDate) },
		"endDate":    func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.EndDate) },
		"clientCode": func(b *bytes.Buffer, v *domain.Project) { writeOptString(b, v.ClientCode) },
	}),
	"BillingSite": newLeafType("BillingSite", []string{"BillingSite", "Node"}, map[string]func(*bytes.Buffer, *domain.BillingSite){
		"id":          func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.ID()) },
		"code":        func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.Code) },
		"description": func(b *bytes.Buffer, v *domain.BillingSite) { writeOptString(b, v.Description) },
	}),
	"TerminateReason": newLeafType("TerminateReason", []string{"TerminateReason"}, map[string]func(*bytes.Buffer, *domain.TerminateReason){
		"code":  func(b *bytes.Buffer, v *domain.TerminateReason) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.TerminateReason) { writeQuoted(b, v.Label) },
	}),
	"ChangeReason": newLeafType("ChangeReason", []string{"ChangeReason"}, map[string]func(*bytes.Buffer, *domain.ChangeReason){
		"code":  func(b *bytes.Buffer, v *domain.ChangeReason) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.ChangeReason) { writeQuoted(b, v.Label) },
	}),
	"SiteConnectionType": newLeafType("SiteConnectionType", []string{"SiteConnectionType"}, map[string]func(*bytes.Buffer, *domain.SiteConnectionType){
		"code":  func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeOptMarshaler(b, v.Code) },
		"label": func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeQuoted(b, v.Label) },
	}),
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
func writeQuoted(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
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
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

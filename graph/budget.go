package graph

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/covage/gateway/internal/plan"
)

// CodeResponseTooLarge is the code of an answer stopped by the response
// budget.
const CodeResponseTooLarge = "RESPONSE_TOO_LARGE"

// ResponseBudget bounds the size of one answer while it is built, so that a
// query whose answer explodes (the schema is cyclic: ennis → projects →
// ennis …) is stopped before it holds the memory, not after. Each field
// with a selection is charged, when it resolves, an estimate of the bytes
// its items take at their own level; before that, the answer's projected
// size (the items times what their nested lists are expected to hold, from
// Sizes) is checked against what is left. Past Max, every later field
// answers null at once without running, lists written by the fast path
// stop, and the whole response becomes one RESPONSE_TOO_LARGE error with no
// data. The finished answer is measured exactly too, so nothing above Max
// is ever sent.
type ResponseBudget struct {
	// Max is the largest answer, in bytes of its data.
	Max int64
	// Sizes estimates nested lists for the projection; a list it does not
	// know is assumed to hold ListSize items (COST_LIST_SIZE).
	Sizes    ListSizes
	ListSize int
}

// Bytes charged per item and per field: the least each can take (a leaf
// value is at least "" or 0, a key its quotes and colon, an item its
// braces), so the estimate never refuses an answer that fits; the finished
// answer is measured exactly.
const (
	leafBytes  = 1
	fieldBytes = 3
	itemBytes  = 2
	// maxProjectedDepth bounds the projection's recursion; deeper levels
	// are charged when they resolve.
	maxProjectedDepth = 8
	// maxDepths is the number of depths summed apart; deeper fields share
	// the last sum.
	maxDepths = 32
	// minSamples is how many fields of a depth are charged before their
	// average is extrapolated to their siblings, so one large first item
	// does not stop an answer that fits.
	minSamples = 16
)

// budget is one request's count.
type budget struct {
	max      int64
	sizes    ListSizes
	listSize int64
	used     atomic.Int64
	over     atomic.Bool
	// projected sums, per depth of field, the projected size of the lists
	// resolved at that depth: the fields of one depth hold disjoint parts
	// of the answer, so each sum estimates the whole answer below that
	// depth without counting a subtree twice (deeper fields' projections
	// are already inside their ancestors').
	projected [maxDepths]atomic.Int64
	// fields counts the fields charged at each depth, for the average
	// that extrapolates a depth's projection to all its siblings.
	fields [maxDepths]atomic.Int64

	mu sync.Mutex
	// perItem remembers the estimates of each selection set of the
	// operation (variables are fixed for the request).
	perItem map[selectionKey]estimate
}

type estimate struct{ own, projected int64 }

type budgetKey struct{}

func budgetOf(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}

// Responses is the response middleware (AroundResponses). It must run
// inside any response cache, so that a stopped answer is never kept.
func (rb ResponseBudget) Responses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if rb.Max <= 0 {
		return next(ctx)
	}
	b := &budget{max: rb.Max, sizes: rb.Sizes, listSize: int64(max(rb.ListSize, 0)), perItem: map[selectionKey]estimate{}}
	// Lists written directly (internal/plan) ask the budget after each
	// item, through the same check.
	resp := next(plan.WithStop(context.WithValue(ctx, budgetKey{}, b), b.exceeded))
	if resp == nil || (!b.over.Load() && int64(len(resp.Data)) <= b.max) {
		// Streamed lists are measured when the transport replays them,
		// before the first byte is sent; past the limit it sends this
		// answer's refusal instead.
		if s := plan.StreamsOf(ctx); s.Len() > 0 {
			s.Limit, s.Over = b.max, b.tooLarge()
		}
		return resp
	}
	return b.tooLarge()
}

// tooLarge is the answer that replaces one over the limit.
func (b *budget) tooLarge() *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{
		Message:    fmt.Sprintf("the answer is larger than the response limit of %d bytes; ask for fewer fields or a filtered list", b.max),
		Extensions: map[string]any{"code": CodeResponseTooLarge},
	}}}
}

// Fields is the field middleware (AroundFields). Leaves are not charged on
// their own: their parent's estimate counts them.
func (rb ResponseBudget) Fields(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Field.Selections) == 0 || fc.Field.Field == nil {
		return next(ctx)
	}
	b := budgetOf(ctx)
	if b == nil {
		return next(ctx)
	}
	if b.over.Load() {
		return graphql.Null, nil
	}
	res, err := next(ctx)
	if err != nil || res == nil {
		return res, err
	}
	n := int64(1)
	if v := reflect.ValueOf(res); v.Kind() == reflect.Slice {
		n = int64(v.Len())
	}
	e := b.estimate(ctx, fc.Field)
	if !b.charge(depthOf(fc), siblings(fc), n*e.own, n*e.projected) {
		return graphql.Null, nil
	}
	return res, nil
}

// siblings is the number of items of the list whose elements hold fc's
// field (fc's field is then resolved once per item), or 0 when fc is not
// under a list. gqlgen records the list in its field's Result before it
// resolves the elements.
func siblings(fc *graphql.FieldContext) int64 {
	if fc.Parent == nil || fc.Parent.Index == nil || fc.Parent.Parent == nil || fc.Parent.Parent.Result == nil {
		return 0
	}
	v := reflect.ValueOf(fc.Parent.Parent.Result)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice {
		return 0
	}
	return int64(v.Len())
}

// depthOf is the number of fields from the root to fc, fc included.
func depthOf(fc *graphql.FieldContext) int {
	d := 0
	for f := fc; f != nil; f = f.Parent {
		if f.Index == nil {
			d++
		}
	}
	return min(d, maxDepths) - 1
}

// charge adds own bytes to the answer's count, and projected bytes to the
// projection of depth, and reports whether both still fit. Once enough
// fields of the depth are charged to trust their average, the projection
// is also extrapolated to every sibling of the current field: the first
// few items of a list whose answer explodes show it, without building the
// rest of the list's subtrees first.
func (b *budget) charge(depth int, siblings, own, projected int64) bool {
	sum := b.projected[depth].Add(projected)
	count := b.fields[depth].Add(1)
	extrapolated := int64(0)
	if count >= min(minSamples, max(siblings, 1)) {
		extrapolated = satMul(sum/count, siblings)
	}
	if own < 0 || projected < 0 || sum > b.max || extrapolated > b.max || b.used.Add(own) > b.max {
		b.over.Store(true)
		return false
	}
	return true
}

// exceeded reports whether a writer that has written n bytes of the answer
// must stop, and stops the budget if so.
func (b *budget) exceeded(n int) bool {
	if b == nil {
		return false
	}
	if int64(n) > b.max {
		b.over.Store(true)
	}
	return b.over.Load()
}

// estimate returns the bytes of one item of the field fc resolves, at its
// own level and projected with its nested lists.
func (b *budget) estimate(ctx context.Context, f graphql.CollectedField) estimate {
	key := selectionKey{field: f.Field, n: len(f.Selections)}
	if key.n > 0 {
		key.first = f.Selections[0]
	}
	b.mu.Lock()
	e, ok := b.perItem[key]
	b.mu.Unlock()
	if ok {
		return e
	}
	e = b.measure(ctx, f.Selections, f.Definition, 0)
	b.mu.Lock()
	b.perItem[key] = e
	b.mu.Unlock()
	return e
}

// selectionKey identifies a field's merged selection set in the operation.
type selectionKey struct {
	field *ast.Field
	first ast.Selection
	n     int
}

// measure estimates one item of type def's named type with selection sel.
func (b *budget) measure(ctx context.Context, sel ast.SelectionSet, def *ast.FieldDefinition, depth int) estimate {
	e := estimate{own: itemBytes, projected: itemBytes}
	if def == nil {
		return e
	}
	oc := graphql.GetOperationContext(ctx)
	for _, child := range graphql.CollectFields(oc, sel, []string{def.Type.Name(), "Node"}) {
		key := int64(len(child.Alias) + fieldBytes)
		if len(child.Selections) == 0 {
			e.own += key + leafBytes
			e.projected += key + leafBytes
			continue
		}
		e.own += key + itemBytes
		e.projected += key + itemBytes
		if depth >= maxProjectedDepth || child.Field == nil || child.Definition == nil {
			continue
		}
		items := int64(1)
		if child.Definition.Type.Elem != nil {
			items = b.listSize
			if n, ok := b.sizes.Estimate(ctx, child.Field, child.ArgumentMap(oc.Variables)); ok {
				items = int64(n)
			}
		}
		nested := b.measure(ctx, child.Selections, child.Definition, depth+1)
		e.projected = satAdd(e.projected, satMul(items, nested.projected))
	}
	return e
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1 << 62
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<62)/b {
		return 1 << 62
	}
	return a * b
}

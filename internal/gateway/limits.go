package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/internal/connection"
)

// Codes in extensions.code of operations refused by a limit. Like the codes
// in graph/errors.go they are part of the public contract.
const (
	CodeDepthLimit     = "DEPTH_LIMIT_EXCEEDED"
	CodeAliasLimit     = "ALIAS_LIMIT_EXCEEDED"
	CodeRootFieldLimit = "ROOT_FIELD_LIMIT_EXCEEDED"
	CodeTokenLimit     = "TOKEN_LIMIT_EXCEEDED"
	CodeCostLimit      = "COST_LIMIT_EXCEEDED"
	CodeInputLimit     = "INPUT_LIMIT_EXCEEDED"
	// CodeIntrospectionDisabled refuses __schema and __type in production.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

// Limits bound what one operation may ask for. They are checked before any
// resolver runs, so a refused operation costs Covage nothing. A zero field
// takes its default.
type Limits struct {
	// MaxDepth bounds field nesting (the schema is cyclic: projects → ennis
	// → projects …). Introspection fields (__schema, __type) do not count,
	// so the Playground's introspection query passes.
	MaxDepth int
	// MaxAliases bounds the aliased fields in a document.
	MaxAliases int
	// MaxRootFields bounds the top-level fields of an operation.
	MaxRootFields int
	// MaxTokens bounds the lexer tokens of a query, so parsing itself is
	// bounded.
	MaxTokens int
	// MaxCost bounds the estimated cost: each field costs 1, each element
	// of a list argument costs 1 whatever is selected (each may be an
	// upstream call), and a list field multiplies the cost of its selection
	// by the number of items it is expected to hold (see ListSizes).
	MaxCost int
	// ListSize is how many items the cost estimate assumes a list has when
	// nothing better is known; a list field with a list argument
	// (billingSites(codes:)) counts as many items as the argument has, if
	// that is more. The lists of a Relay connection (its edges and nodes)
	// count as its page instead: first or last, or the default page (see
	// pageSize).
	ListSize int
	// MaxListArgument bounds the elements of any list argument, literal or
	// variable, nested in input objects included: billingSites(codes:)
	// makes one upstream call per distinct code.
	MaxListArgument int
	// MaxEntityRepresentations replaces MaxListArgument for the
	// representations argument of Federation's _entities root field,
	// since routers batch more keys than a client would send.
	MaxEntityRepresentations int
	// MaxStringLength bounds each string argument, literal or variable, in
	// bytes: codes and references are short, and a long one would only go
	// on to Covage.
	MaxStringLength int
	// MaxResponseBytes bounds an answer's data while it is built and when
	// it is sent (graph.ResponseBudget); past it the answer is one
	// RESPONSE_TOO_LARGE error, with no data.
	MaxResponseBytes int
}

// DefaultLimits returns the limits a zero Limits takes, which are also
// the defaults of their settings (internal/config). It is a function, not a
// variable, so that no caller can change the defaults of another.
//
// MaxCost is 1,000,000 because the estimate uses the real size of lists
// when the shared cache knows them: `{ projects { code ennis { reference } } }`
// costs about 21,500 on 500 projects × 2,000 doors and 525,000 on the
// 12,500 × 50,000 scaling data set of the benchmarks, while the cyclic
// `{ ennis { projects { ennis { projects { code } } } } }` costs about
// 16.8 million on 2,000 doors.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 10, MaxAliases: 30, MaxRootFields: 20, MaxTokens: 10000, MaxCost: 1_000_000, ListSize: 5,
		MaxStringLength: 1024, MaxListArgument: 100, MaxEntityRepresentations: 1000, MaxResponseBytes: 32 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, f := range []struct{ v, def *int }{
		{&l.MaxDepth, &d.MaxDepth}, {&l.MaxAliases, &d.MaxAliases}, {&l.MaxRootFields, &d.MaxRootFields},
		{&l.MaxTokens, &d.MaxTokens}, {&l.MaxCost, &d.MaxCost}, {&l.ListSize, &d.ListSize},
		{&l.MaxStringLength, &d.MaxStringLength}, {&l.MaxListArgument, &d.MaxListArgument},
		{&l.MaxEntityRepresentations, &d.MaxEntityRepresentations}, {&l.MaxResponseBytes, &d.MaxResponseBytes},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

// operationLimits is the gqlgen extension enforcing Limits. The shape limits
// (tokens, depth, aliases, root fields) run on the raw query before gqlgen
// validates it, since validation itself is quadratic in the number of
// fields; the cost limit needs the validated document's types and runs
// after validation, before execution.
type operationLimits struct {
	l               Limits
	noIntrospection bool
	// sizes estimates the items of list fields from what the shared cache
	// holds (listsize.go); nil, or a field it does not know, falls back to
	// l.ListSize.
	sizes graph.ListSizes
	// parsed is gqlgen's query cache. gqlgen parses a query, and caches it,
	// only after MutateOperationParameters has let it through with these
	// same limits, so a query found there needs no second look: the common
	// case, where clients send the same few queries again and again, skips
	// one parse per request.
	parsed graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func limitError(code string, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// MutateOperationParameters checks the shape limits on the raw query.
func (o operationLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if o.parsed != nil {
		if _, ok := o.parsed.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, o.l.MaxTokens)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded token limit") {
			return limitError(CodeTokenLimit, "the query has more than %d tokens, the token limit", o.l.MaxTokens)
		}
		return nil // gqlgen reports the syntax error itself.
	}
	s := shape{frags: map[string]*ast.FragmentDefinition{}, depth: map[string]int{}, roots: map[string]int{}}
	for _, f := range doc.Fragments {
		s.frags[f.Name] = f
	}
	if n := countAliases(doc); n > o.l.MaxAliases {
		return limitError(CodeAliasLimit, "the query has %d aliases, more than the alias limit of %d", n, o.l.MaxAliases)
	}
	for _, op := range doc.Operations {
		if n := s.rootFields(op.SelectionSet); n > o.l.MaxRootFields {
			return limitError(CodeRootFieldLimit, "the operation has %d root fields, more than the root field limit of %d", n, o.l.MaxRootFields)
		}
		if d := s.maxDepth(op.SelectionSet); d > o.l.MaxDepth {
			return limitError(CodeDepthLimit, "the operation is %d levels deep, more than the depth limit of %d", d, o.l.MaxDepth)
		}
	}
	return nil
}

// MutateOperationContext checks the input and cost limits on the validated
// operation, with its variables.
//
// rc.Variables are the coerced variables, so a list passed in a variable
// is measured like a literal one.
func (o operationLimits) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	c := newCoster(ctx, o.l, o.sizes, rc.Variables)
	n := c.cost(rc.Operation.SelectionSet, 0)
	if c.introspects && o.noIntrospection {
		return limitError(CodeIntrospectionDisabled, "introspection is disabled on this gateway")
	}
	if c.longString > 0 {
		return limitError(CodeInputLimit, "a string argument is %d bytes long, more than the string limit of %d bytes", c.longString, o.l.MaxStringLength)
	}
	if c.longList != nil {
		return limitError(CodeInputLimit, "the list argument %s has %d elements, more than the limit of %d", c.longList.name, c.longList.n, c.longList.limit)
	}
	if c.listElems > o.l.MaxListArgument {
		return limitError(CodeInputLimit, "the operation's list arguments have %d elements in all, more than the limit of %d", c.listElems, o.l.MaxListArgument)
	}
	if n > o.l.MaxCost {
		return limitError(CodeCostLimit, "the operation's estimated cost is more than the cost limit of %d (each list counts as the items it is known to hold, else %d, a connection's as its page, and each element of a list argument counts 1)", o.l.MaxCost, o.l.ListSize)
	}
	return nil
}

func countAliases(doc *ast.QueryDocument) int {
	n := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					n++
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return n
}

// shape measures an unvalidated document. Fragments are memoised, so a
// fragment spread many times is measured once, and a fragment cycle (which
// validation rejects later) ends the walk instead of recursing forever.
type shape struct {
	frags map[string]*ast.FragmentDefinition
	depth map[string]int // -1 while being measured
	roots map[string]int
}

func isIntrospection(name string) bool { return name == "__schema" || name == "__type" }

func (s *shape) maxDepth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch x := sel.(type) {
		case *ast.Field:
			if !isIntrospection(x.Name) {
				d = 1 + s.maxDepth(x.SelectionSet)
			}
		case *ast.InlineFragment:
			d = s.maxDepth(x.SelectionSet)
		case *ast.FragmentSpread:
			d = s.fragment(x.Name, s.depth, s.maxDepth)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (s *shape) rootFields(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			n++
		case *ast.InlineFragment:
			n += s.rootFields(x.SelectionSet)
		case *ast.FragmentSpread:
			n += s.fragment(x.Name, s.roots, s.rootFields)
		}
	}
	return n
}

// fragment measures the named fragment once with measure, memoised in memo.
func (s *shape) fragment(name string, memo map[string]int, measure func(ast.SelectionSet) int) int {
	if v, ok := memo[name]; ok {
		return max(v, 0)
	}
	f := s.frags[name]
	if f == nil {
		return 0
	}
	memo[name] = -1
	v := measure(f.SelectionSet)
	memo[name] = v
	return v
}

// coster estimates an operation's cost, saturating at cap so that a
// hostile query cannot overflow it.
type coster struct {
	ctx           context.Context
	sizes         graph.ListSizes
	listSize, cap int
	frags         map[string]int
	vars          map[string]any
	maxString     int
	maxList       int
	maxEntities   int
	longString    int       // the length of a string argument over maxString
	longList      *longList // the first list argument over its limit
	// listElems adds up the elements of every list argument but
	// _entities'. Each one can be an upstream call (billingSites(codes:)
	// makes one GET per code), so aliases must not multiply the cap.
	listElems   int
	introspects bool // whether __schema or __type is asked for
	// page is the page size of the connection whose selection set is
	// being costed, which its list fields hold; -1 elsewhere.
	page int
}

// longList is a list argument over its limit.
type longList struct {
	name     string
	n, limit int
}

func (c *coster) cost(set ast.SelectionSet, depth int) int {
	total := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(x.Name, "__") {
				c.introspects = c.introspects || isIntrospection(x.Name)
				continue // introspection is bounded by the schema, and free.
			}
			size, elems := c.listSize, 0
			if c.page >= 0 {
				size = c.page
			}
			outer := c.page
			c.page = pageSize(x, c.vars)
			inner := c.cost(x.SelectionSet, depth+1)
			c.page = outer
			if x.Definition != nil {
				// A field without arguments has nothing to check: skip
				// building an empty map for each such field of every
				// request.
				var args map[string]any
				if len(x.Definition.Arguments) > 0 {
					args = x.ArgumentMap(c.vars)
				}
				for name, v := range args {
					limit, entities := c.maxList, depth == 0 && x.Name == "_entities" && name == "representations"
					if entities {
						limit = c.maxEntities
					}
					n := c.input(v, x.Name+"("+name+":)", limit)
					if !entities {
						c.listElems = c.add(c.listElems, n)
					}
					elems = c.add(elems, n)
					size = max(size, n)
				}
				if n, ok := c.sizes.Estimate(c.ctx, x, args); ok {
					size = n
				}
			}
			if x.Definition != nil && isList(x.Definition.Type) {
				inner = c.mul(inner, max(size, 0))
			}
			// Each element of a list argument is charged whatever is
			// selected: billingSites(codes:) { __typename } still makes
			// one upstream call per code.
			total = c.add(total, c.add(1, c.add(elems, inner)))
		case *ast.InlineFragment:
			total = c.add(total, c.cost(x.SelectionSet, depth))
		case *ast.FragmentSpread:
			// A fragment on a connection costs what its page makes it.
			name := x.Name + "/" + strconv.Itoa(c.page)
			v, ok := c.frags[name]
			if !ok && x.Definition != nil {
				c.frags[name] = 0 // cycle guard; validation rejects cycles anyway.
				v = c.cost(x.Definition.SelectionSet, depth)
				c.frags[name] = v
			}
			total = c.add(total, v)
		}
	}
	return total
}

// input checks an argument's strings against maxString and its lists,
// nested ones included, against limit, and returns its length if it is a
// list. name names the argument in the error.
func (c *coster) input(v any, name string, limit int) int {
	switch x := v.(type) {
	case string:
		if len(x) > c.maxString {
			c.longString = max(c.longString, len(x))
		}
	case []any:
		if len(x) > limit && c.longList == nil {
			c.longList = &longList{name: name, n: len(x), limit: limit}
		}
		for _, e := range x {
			c.input(e, name, limit)
		}
		return len(x)
	case map[string]any:
		for _, e := range x {
			c.input(e, name, limit)
		}
	}
	return 0
}

func (c *coster) add(a, b int) int { return min(a+b, c.cap) }

func (c *coster) mul(a, b int) int {
	if b == 0 {
		return 0
	}
	if a != 0 && a > c.cap/b {
		return c.cap
	}
	return min(a*b, c.cap)
}

func isList(t *ast.Type) bool { return t != nil && t.Elem != nil }

// newCoster returns a coster for one operation under l, with sizes to
// estimate its lists and vars its coerced variables.
func newCoster(ctx context.Context, l Limits, sizes graph.ListSizes, vars map[string]any) *coster {
	return &coster{ctx: ctx, sizes: sizes, listSize: l.ListSize, cap: l.MaxCost + 1, frags: map[string]int{}, vars: vars,
		maxString: l.MaxStringLength, maxList: l.MaxListArgument, maxEntities: l.MaxEntityRepresentations, page: -1}
}

// pageSize returns the page a Relay connection field (one with first and
// last arguments of type Int) answers: first or last, else the default
// page; a value the connection refuses counts as the largest page. It is
// -1 for any other field.
func pageSize(f *ast.Field, vars map[string]any) int {
	d := f.Definition
	if d == nil || d.Type.Elem != nil {
		return -1
	}
	first, last := d.Arguments.ForName("first"), d.Arguments.ForName("last")
	if first == nil || last == nil || first.Type.Name() != "Int" || last.Type.Name() != "Int" {
		return -1
	}
	args := f.ArgumentMap(vars)
	n, ok := intArg(args["first"])
	if !ok {
		n, ok = intArg(args["last"])
	}
	switch {
	case !ok:
		return connection.DefaultPage
	case n < 0 || n > connection.MaxPage:
		return connection.MaxPage
	}
	return int(n)
}

// intArg reads an Int argument as gqlparser gives it: int64 from a
// literal, json.Number or float64 from variables.
func intArg(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case float64:
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

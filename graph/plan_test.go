package graph_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/plan"
)

// resolvers lists the fields gqlgen generated a resolver for, as
// Type.field, read from the generated ResolverRoot: gqlgen.yml and the
// schema decide which fields have one. Only these can reach a loader: a
// field bound to a struct field or method of internal/domain has no
// context to reach one, and domain cannot import the loaders.
func resolvers(t *testing.T, schema *ast.Schema) map[string]bool {
	t.Helper()
	out := make(map[string]bool)
	root := reflect.TypeFor[generated.ResolverRoot]()
	for i := range root.NumMethod() {
		m := root.Method(i)
		iface := m.Type.Out(0)
		for j := range iface.NumMethod() {
			name := iface.Method(j).Name
			if m.Name == "Entity" {
				// The federation entity resolvers all serve one field.
				require.True(t, strings.HasPrefix(name, "FindMany"), name)
				out["Query._entities"] = true
				continue
			}
			// Match the Go method back to its schema field, so that a
			// resolver the mapping misses fails here rather than going
			// unchecked.
			def := schema.Types[m.Name]
			require.NotNil(t, def, "resolver root %s names no schema type", m.Name)
			var field string
			for _, f := range def.Fields {
				if strings.EqualFold(f.Name, name) {
					field = f.Name
				}
			}
			require.NotEmpty(t, field, "resolver %s.%s matches no schema field", m.Name, name)
			out[m.Name+"."+field] = true
		}
	}
	return out
}

func executableSchema() *ast.Schema {
	return generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
}

// TestEveryResolverFieldIsPlanned walks the whole schema: every field with
// a resolver must be in internal/plan's reach table (with the keyed
// loaders it reaches, or none), and every entry of the table must be such
// a field. A new field missing from the plan would otherwise make extra
// upstream calls or wait a batching window, silently.
func TestEveryResolverFieldIsPlanned(t *testing.T) {
	schema := executableSchema()
	withResolver := resolvers(t, schema)
	require.NotEmpty(t, withResolver)
	names := make([]string, 0, len(schema.Types))
	for name := range schema.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def := schema.Types[name]
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			field := name + "." + f.Name
			if !withResolver[field] {
				continue
			}
			_, ok := plan.Reach(field)
			require.True(t, ok, "%s has a resolver but is missing from internal/plan's reach table (reach.go)", field)
		}
	}
	for _, field := range plan.Planned() {
		require.True(t, withResolver[field], "internal/plan's reach table names %s, which has no resolver in the schema", field)
	}
}

// boundLeaves returns the fields of type name that gqlgen writes from a
// struct field or method (no resolver), take no argument and are scalars
// or enums: the fields the fast path can write itself.
func boundLeaves(t *testing.T, schema *ast.Schema, name string) []string {
	t.Helper()
	withResolver := resolvers(t, schema)
	def := schema.Types[name]
	require.NotNil(t, def, name)
	var out []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || withResolver[name+"."+f.Name] || len(f.Arguments) > 0 {
			continue
		}
		if kind := schema.Types[f.Type.Name()].Kind; kind == ast.Scalar || kind == ast.Enum {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// TestFastPathWritesEveryBoundLeaf checks the fast path's writers against
// the schema and gqlgen's bindings: for every object type it writes, it
// knows every bound leaf (a new leaf would otherwise send every list of
// the type back through gqlgen, slowly and silently), and every field it
// writes is a bound leaf or a relation to another type it writes.
func TestFastPathWritesEveryBoundLeaf(t *testing.T) {
	schema := executableSchema()
	withResolver := resolvers(t, schema)
	writable := plan.New().Writable()
	require.NotEmpty(t, writable)
	for name, fields := range writable {
		leaves := boundLeaves(t, schema, name)
		for _, leaf := range leaves {
			require.Contains(t, fields, leaf, "%s.%s is a bound leaf the fast path does not write (internal/plan/objects.go)", name, leaf)
		}
		for _, field := range fields {
			if slices.Contains(leaves, field) {
				continue
			}
			def := schema.Types[name].Fields.ForName(field)
			require.NotNil(t, def, "the fast path writes %s.%s, which the schema lacks", name, field)
			require.True(t, withResolver[name+"."+field] && def.Type.Elem != nil, "%s.%s is neither a bound leaf nor a list relation", name, field)
			require.Contains(t, writable, def.Type.Elem.Name(), "%s.%s leads to a type the fast path does not write", name, field)
		}
	}
}

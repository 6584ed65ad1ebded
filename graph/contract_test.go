package graph_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// loadSchema parses schema files the way gqlgen does.
func loadSchema(t *testing.T, paths ...string) *ast.Schema {
	t.Helper()
	var sources []*ast.Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		sources = append(sources, &ast.Source{Name: p, Input: string(b)})
	}
	s, err := gqlparser.LoadSchema(sources...)
	require.NoError(t, err)
	return s
}

func projectSchema(t *testing.T) *ast.Schema {
	t.Helper()
	files, err := filepath.Glob("*.graphqls")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return loadSchema(t, files...)
}

// TestSchemaKeepsContract checks that the served schema has everything in
// the public contract (a copy of ../shared/api/schema.graphqls) with the
// same names, types and nullability. Additions are allowed; nothing else.
func TestSchemaKeepsContract(t *testing.T) {
	contract := loadSchema(t, filepath.Join("testdata", "contract.graphql"))
	problems := contractProblems(contract, projectSchema(t))
	require.Empty(t, problems, "the schema falls short of the public contract")
}

// TestContractCheckFindsDrift proves the check above can fail: a schema
// with a renamed field, a changed nullability and a missing enum value is
// reported.
func TestContractCheckFindsDrift(t *testing.T) {
	contract := loadSchema(t, filepath.Join("testdata", "contract.graphql"))
	b, err := os.ReadFile(filepath.Join("testdata", "contract.graphql"))
	require.NoError(t, err)
	drifted := strings.NewReplacer(
		"shortName: String\n  \"\"\"Door reference", "shortNom: String\n  \"\"\"Door reference",
		"code: String!\n  active: Boolean!\n  startDate", "code: String\n  active: Boolean!\n  startDate",
		"  CEMETERY\n", "",
	).Replace(string(b))
	s, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "drifted", Input: drifted})
	require.Nil(t, gqlErr)
	problems := contractProblems(contract, s)
	require.Contains(t, problems, "Enni.shortName: missing")
	require.Contains(t, problems, "Project.code: type String, want String!")
	require.Contains(t, problems, "SiteConnectionTypeCode.CEMETERY: missing")
}

func contractProblems(contract, got *ast.Schema) []string {
	var problems []string
	for name, want := range contract.Types {
		if want.BuiltIn {
			continue
		}
		have, ok := got.Types[name]
		if !ok {
			problems = append(problems, name+": missing type")
			continue
		}
		if have.Kind != want.Kind {
			problems = append(problems, name+": kind "+string(have.Kind)+", want "+string(want.Kind))
			continue
		}
		for _, iface := range want.Interfaces {
			if !contains(have.Interfaces, iface) {
				problems = append(problems, name+": does not implement "+iface)
			}
		}
		for _, v := range want.EnumValues {
			if have.EnumValues.ForName(v.Name) == nil {
				problems = append(problems, name+"."+v.Name+": missing")
			}
		}
		for _, wf := range want.Fields {
			hf := have.Fields.ForName(wf.Name)
			if hf == nil {
				problems = append(problems, name+"."+wf.Name+": missing")
				continue
			}
			if hf.Type.String() != wf.Type.String() {
				problems = append(problems, name+"."+wf.Name+": type "+hf.Type.String()+", want "+wf.Type.String())
			}
			for _, wa := range wf.Arguments {
				ha := hf.Arguments.ForName(wa.Name)
				switch {
				case ha == nil:
					problems = append(problems, name+"."+wf.Name+"("+wa.Name+"): missing")
				case ha.Type.String() != wa.Type.String():
					problems = append(problems, name+"."+wf.Name+"("+wa.Name+"): type "+ha.Type.String()+", want "+wa.Type.String())
				}
			}
			for _, ha := range hf.Arguments {
				if wf.Arguments.ForName(ha.Name) == nil && ha.Type.NonNull && ha.DefaultValue == nil {
					problems = append(problems, name+"."+wf.Name+"("+ha.Name+"): new required argument")
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSchemaIsDescribed checks that every type, field, argument-free input
// field and enum value we define carries a description, so the Playground
// documents the whole API.
func TestSchemaIsDescribed(t *testing.T) {
	s := projectSchema(t)
	var missing []string
	for name, def := range s.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if strings.TrimSpace(def.Description) == "" {
			missing = append(missing, name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if strings.TrimSpace(f.Description) == "" {
				missing = append(missing, name+"."+f.Name)
			}
		}
		for _, v := range def.EnumValues {
			if strings.TrimSpace(v.Description) == "" {
				missing = append(missing, name+"."+v.Name)
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "types and fields without a description")
}

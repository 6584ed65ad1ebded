package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

const (
	upBillingSite = "/api/v1/referential/billing_site/"

	// entitiesQuery is what a federation router sends: every
	// representation of one fetch in one _entities call.
	entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) { __typename
		... on Enni { reference label }
		... on Project { code active }
		... on Business { code label }
		... on BillingSite { code description } } }`
)

// reps builds representations of one type keyed by key.
func reps(typename, key string, values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = map[string]any{"__typename": typename, key: v}
	}
	return out
}

// numbered returns n values format(1) … format(n).
func numbered(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i+1)
	}
	return out
}

// entity is one _entities answer with every key field of the four types.
type entity struct {
	Typename    string `json:"__typename"`
	Reference   string `json:"reference"`
	Code        string `json:"code"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Projects    []struct {
		Code string `json:"code"`
	} `json:"projects"`
	Ennis []struct {
		Reference string `json:"reference"`
	} `json:"ennis"`
}

func (x *entity) key() string {
	if x == nil {
		return ""
	}
	if x.Typename == "Enni" {
		return x.Reference
	}
	return x.Code
}

func entities(t *testing.T, data json.RawMessage) []*entity {
	t.Helper()
	var got struct {
		Entities []*entity `json:"_entities"`
	}
	require.NoError(t, json.Unmarshal(data, &got), string(data))
	return got.Entities
}

// TestEntitiesBatch checks that _entities costs what the same keys cost as
// lookups: one upstream call for any number of doors, projects or
// businesses (the filtered call for a single key), one GET per distinct
// billing site, with unknown keys null and the representations' order kept.
// It runs with a 30-second batching window and a 5-second request
// deadline, so an entity fetch that waited for the window would fail.
func TestEntitiesBatch(t *testing.T) {
	e := newEnv(t, withData(demo.Generate(500, 2000, 50)), withWait(30*time.Second),
		withSecurity(gateway.Security{RequestTimeout: 5 * time.Second}))

	fiftyDoors := numbered("CN%06d", 50)
	fiftyDoors[7], fiftyDoors[30] = "CN999999", "NOPE" // unknown: null, no error
	fiftyProjects := numbered("P%05d", 50)
	fiftyProjects[0] = "NOPE"
	fiftyBusinesses := numbered("AFGEN%011d", 50)
	fiftyBusinesses[49] = "NOPE"
	sites := append(numbered("BS%04d", 10), "NOPE")
	sites = append(sites, sites...) // 22 representations, 11 distinct codes

	mixed := append(reps("Enni", "reference", "CN000002", "CN000001", "NOPE"), reps("BillingSite", "code", "BS0002", "BS0001", "BS0002")...)
	mixed = append(mixed, reps("Project", "code", "P00003")...)

	cases := []struct {
		name string
		reps []any
		keys []string // the key each entity must have, "" for null
		want []string // upstream requests, in any order
	}{
		{"50 doors", reps("Enni", "reference", fiftyDoors...), fiftyDoors, []string{upEnnis}},
		{"one door", reps("Enni", "reference", "CN000042"), []string{"CN000042"}, []string{upEnnis + "?reference=CN000042"}},
		{"50 projects", reps("Project", "code", fiftyProjects...), fiftyProjects, []string{upProjects}},
		{"one project", reps("Project", "code", "P00042"), []string{"P00042"}, []string{upProjects + "?code=P00042"}},
		{"50 businesses", reps("Business", "code", fiftyBusinesses...), fiftyBusinesses, []string{upBusiness}},
		{"billing sites", reps("BillingSite", "code", sites...), sites, func() []string {
			var w []string
			for _, c := range sites[:11] {
				w = append(w, upBillingSite+c+"/")
			}
			return w
		}()},
		{"mixed types", mixed, []string{"CN000002", "CN000001", "", "BS0002", "BS0001", "BS0002", "P00003"},
			[]string{upEnnis, upBillingSite + "BS0001/", upBillingSite + "BS0002/", upProjects + "?code=P00003"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := entities(t, e.mustQuery(t, entitiesQuery, map[string]any{"r": tc.reps}))
			require.Len(t, got, len(tc.keys))
			for i, k := range tc.keys {
				if k == "NOPE" || k == "CN999999" {
					k = ""
				}
				require.Equal(t, k, got[i].key(), "entity %d", i)
				typename := tc.reps[i].(map[string]any)["__typename"]
				if k != "" {
					require.Equal(t, typename, got[i].Typename)
				}
				if k != "" && typename != "Project" {
					require.NotEmpty(t, got[i].Label+got[i].Description, "entity %d has its fields", i)
				}
			}
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}
}

// TestRelationsUnderEntities checks that a relation selected under entities
// follows the rules of relations under a list: one call for the entities,
// one for the relation however many parents, the filtered call when they
// share one client, and no batching window at either level (the same
// 30-second window and 5-second deadline as above). A null entity among
// them has no relation to load.
func TestRelationsUnderEntities(t *testing.T) {
	e := newEnv(t, withData(demo.Generate(500, 2000, 50)), withWait(30*time.Second),
		withSecurity(gateway.Security{RequestTimeout: 5 * time.Second}))
	const doorsProjects = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Enni { reference projects { code } } } }`
	const projectsDoors = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Project { code ennis { reference } } } }`

	// Generated data: door i and project i belong to client i%50+1, so
	// doors 1..20 span 20 clients, and projects 1, 51, 101 share one.
	cases := []struct {
		name  string
		query string
		reps  []any
		want  []string
	}{
		{"20 doors with their projects", doorsProjects, reps("Enni", "reference", append(numbered("CN%06d", 20), "NOPE")...),
			[]string{upEnnis, upProjects}},
		{"one door with its projects", doorsProjects, reps("Enni", "reference", "CN000001"),
			[]string{upEnnis + "?reference=CN000001", upProjects}},
		{"20 projects with their doors", projectsDoors, reps("Project", "code", append(numbered("P%05d", 20), "NOPE")...),
			[]string{upProjects, upEnnis}},
		{"projects of one client with their doors", projectsDoors, reps("Project", "code", "P00001", "P00051", "P00101"),
			[]string{upProjects, upEnnis + "?short_name=C0002"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := entities(t, e.mustQuery(t, tc.query, map[string]any{"r": tc.reps}))
			require.Len(t, got, len(tc.reps))
			for i, x := range got {
				if i == len(got)-1 && len(got) == 21 {
					require.Nil(t, x, "unknown key")
					continue
				}
				require.NotNil(t, x, "entity %d", i)
				require.Positive(t, len(x.Projects)+len(x.Ennis), "entity %d has its relation", i)
			}
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}
}

// TestEntitiesUpstreamFailure checks that a failing upstream nulls only the
// entities that needed it, each with its own error at ["_entities", i] and
// a stable code, while the other types keep their data.
func TestEntitiesUpstreamFailure(t *testing.T) {
	e := newEnv(t)
	e.fault(upEnnis, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	r := append(reps("Enni", "reference", "CN012345", "CN012346"), reps("BillingSite", "code", "AUX00")...)
	resp := e.query(t, entitiesQuery, map[string]any{"r": r})
	got := entities(t, resp.Data)
	require.Nil(t, got[0])
	require.Nil(t, got[1])
	require.Equal(t, "AUX00", got[2].key())
	require.Len(t, resp.Errors, 2, resp.Body)
	for i, err := range resp.Errors {
		require.Equal(t, "UPSTREAM_UNAVAILABLE", err.Extensions["code"], resp.Body)
		require.Equal(t, []any{"_entities", float64(i)}, err.Path, resp.Body)
	}
}

// TestServiceSDL checks that a router can read the subgraph's SDL, with its
// federation link and entity keys, in development and in production mode
// (introspection off), while production still refuses introspection, even
// when asked for next to _service.
func TestServiceSDL(t *testing.T) {
	const service = `{ _service { sdl } }`
	dev := newEnv(t)
	prod := newEnv(t, withSecurity(gateway.Security{DisableIntrospection: true, DisableSuggestions: true, DisablePlayground: true}))
	for name, e := range map[string]*env{"development": dev, "production": prod} {
		t.Run(name, func(t *testing.T) {
			var got struct {
				Service struct{ SDL string } `json:"_service"`
			}
			require.NoError(t, json.Unmarshal(e.mustQuery(t, service, nil), &got))
			for _, want := range []string{
				`@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])`,
				`extend type Project @key(fields: "code")`,
				`extend type Enni @key(fields: "reference")`,
				`extend type Business @key(fields: "code")`,
				`extend type BillingSite @key(fields: "code")`,
				`node(id: ID!): Node @federation__shareable`,
				`directive @federation__shareable repeatable on OBJECT | FIELD_DEFINITION`,
			} {
				require.Contains(t, got.Service.SDL, want)
			}
			// gqlgen's own definitions stay out: composition adds them.
			require.NotContains(t, got.Service.SDL, "_entities")
		})
	}
	for _, q := range []string{
		`{ _service { sdl } __schema { types { name } } }`,
		`{ _service { sdl } __type(name: "Project") { name } }`,
		`{ __schema { types { name } } }`,
	} {
		r := prod.query(t, q, nil)
		require.NotEmpty(t, r.Errors, r.Body)
		require.Equal(t, gateway.CodeIntrospectionDisabled, r.Errors[0].Extensions["code"], r.Body)
		require.Contains(t, []string{"", "null"}, string(r.Data), "nothing runs")
	}
	require.Empty(t, prod.upstream())
}

// TestEntitiesCost checks the bounds of _entities: more representations
// than MAX_ENTITY_REPRESENTATIONS are refused before any upstream call, and
// under that cap each selected field costs once per representation.
func TestEntitiesCost(t *testing.T) {
	e := newEnv(t, withData(demo.Generate(10, 2000, 5)))
	const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Enni { reference label offer dsp active } } }`

	// Routers batch more keys than MAX_LIST_ARGUMENT allows, so
	// representations have a cap of their own, MAX_ENTITY_REPRESENTATIONS
	// (1,000 by default); one more is refused before any upstream call.
	for _, n := range []int{1001, 2000} {
		r := e.query(t, q, map[string]any{"r": reps("Enni", "reference", numbered("CN%06d", n)...)})
		require.NotEmpty(t, r.Errors, r.Body)
		require.Equal(t, gateway.CodeInputLimit, r.Errors[0].Extensions["code"], r.Body)
		require.Empty(t, e.upstream())
	}

	got := entities(t, e.mustQuery(t, q, map[string]any{"r": reps("Enni", "reference", numbered("CN%06d", 1000)...)}))
	require.Len(t, got, 1000)
	require.Equal(t, []string{upEnnis}, e.upstream())

	// Under the cap, the representations still count in the cost: each
	// selected field once per representation (500 × 6 > 2,000).
	tight := newEnv(t, withData(demo.Generate(10, 2000, 5)), withSecurity(gateway.Security{Limits: gateway.Limits{MaxCost: 2000}}))
	r := tight.query(t, q, map[string]any{"r": reps("Enni", "reference", numbered("CN%06d", 500)...)})
	require.NotEmpty(t, r.Errors, r.Body)
	require.Equal(t, gateway.CodeCostLimit, r.Errors[0].Extensions["code"], r.Body)
	require.Empty(t, tight.upstream())
	require.Len(t, entities(t, tight.mustQuery(t, q, map[string]any{"r": reps("Enni", "reference", numbered("CN%06d", 100)...)})), 100)
}

package gateway_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/gateway"
)

const (
	upProjects = "/api/v1/referential/project"
	upEnnis    = "/api/v1/referential/enni/"
	upBusiness = "/api/v1/referential/business_code"
)

// TestRelationsCostTwoCalls checks the central batching promise: a relation
// costs one list call however many parents there are, in both directions
// and at any depth, on the sample data and on 500 projects × 2,000 doors.
func TestRelationsCostTwoCalls(t *testing.T) {
	shallow := []string{
		`{ projects { code ennis { reference } } }`,
		`{ ennis { reference projects { code } } }`,
	}
	// Deep queries multiply the response size at each level, so they run on
	// the small sample only; 500 × 40 × 10 × 40 objects is a hostile query.
	deep := append([]string{
		`{ projects { ennis { projects { ennis { reference projects { code } } } } } }`,
		`{ ennis { projects { ennis { projects { code } } } } }`,
		`{ a: projects { code ennis { reference } } b: projects { code } ennis { reference } }`,
	}, shallow...)
	cases := []struct {
		name    string
		data    *demo.Dataset
		queries []string
	}{
		{"sample", demo.Sample(), deep},
		{"generated", demo.Generate(500, 2000, 50), shallow},
	}
	for _, tc := range cases {
		e := newEnv(t, withData(tc.data))
		for _, q := range tc.queries {
			t.Run(tc.name+" "+q, func(t *testing.T) {
				e.mustQuery(t, q, nil)
				require.ElementsMatch(t, []string{upProjects, upEnnis}, e.upstream())
			})
		}
	}
}

// TestNestedCallsDependOnParents checks the rule for filtered roots: one
// client gets the filtered door call, several clients get one list call.
func TestNestedCallsDependOnParents(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		query string
		want  []string
	}{
		{`{ projects(filter: {code: "FLASH"}) { ennis { reference } } }`,
			[]string{upProjects + "?code=FLASH", upEnnis + "?short_name=DC999"}},
		{`{ projects(filter: {active: true}) { ennis { reference } } }`,
			[]string{upProjects + "?active=true", upEnnis}},
		{`{ projects { ennis(filter: {shortName: "DC123"}) { reference } } }`,
			[]string{upProjects, upEnnis + "?short_name=DC123"}},
		{`{ ennis(filter: {reference: "CN012345"}) { projects { code } } }`,
			[]string{upEnnis + "?reference=CN012345", upProjects}},
		{`{ project(code: "FLASH") { ennis { reference projects { code } } } }`,
			[]string{upProjects + "?code=FLASH", upEnnis + "?short_name=DC999", upProjects}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			e.mustQuery(t, tc.query, nil)
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}
}

// TestKeyedLookupsBatch checks project(code), enni(reference) and
// business(code): one key uses the filtered call, several keys share one
// list call, duplicates cost nothing, and a list already fetched in the
// request is reused.
func TestKeyedLookupsBatch(t *testing.T) {
	// A generous wait makes the batch window deterministic under -race on a
	// busy machine; the default is tested by every other test.
	e := newEnv(t, withWait(20*time.Millisecond))
	cases := []struct {
		query string
		want  []string
	}{
		{`{ project(code: "FLASH") { code } }`, []string{upProjects + "?code=FLASH"}},
		{`{ a: project(code: "FLASH") { code } b: project(code: "FLASH") { active } }`, []string{upProjects + "?code=FLASH"}},
		{`{ a: project(code: "FLASH") { code } b: project(code: "NOPE") { code } c: project(code: "FLASH") { code } }`, []string{upProjects}},
		{`{ projects { code } project(code: "FLASH") { code } }`, []string{upProjects}},
		{`{ project(code: "FLASH") { code } projects { code } }`, []string{upProjects}},
		{`{ project(code: "FLASH") { code } projects(filter: { code: null }) { code } }`, []string{upProjects}},
		{`{ project(code: "FLASH") { code } projects(filter: { active: true }) { code } }`, []string{upProjects + "?active=true", upProjects + "?code=FLASH"}},
		{`{ project(code: "FLASH") { code } projects @skip(if: true) { code } }`, []string{upProjects + "?code=FLASH"}},
		{`{ enni(reference: "CN012345") { reference } ennis { reference } }`, []string{upEnnis}},
		{`{ enni(reference: "CN012345") { reference } }`, []string{upEnnis + "?reference=CN012345"}},
		{`{ a: enni(reference: "CN012345") { reference } b: enni(reference: "CN001366") { reference } }`, []string{upEnnis}},
		{`{ a: business(code: "AFAUX01234567890") { code } b: business(code: "NOPE") { code } businesses { code } }`, []string{upBusiness}},
		{`{ a: ennis { reference } b: ennis { label } ...F } fragment F on Query { ennis { offer } }`, []string{upEnnis}},
		{`{ a: terminateReasons { code } b: terminateReasons { label } }`, []string{"/api/v1/referential/terminate_reason/"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			e.mustQuery(t, tc.query, nil)
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}

	// Node IDs resolve through the same loaders.
	q := `query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }`
	e.mustQuery(t, q, map[string]any{"a": domain.NewID(domain.KindProject, "FLASH"), "b": domain.NewID(domain.KindProject, "NOPE")})
	require.Equal(t, []string{upProjects}, e.upstream())
}

// TestBillingSitesPool checks billingSites: one GET per distinct code, none
// for duplicates, never more than the pool size in flight, and null for a
// site upstream does not have.
func TestBillingSitesPool(t *testing.T) {
	for _, pool := range []int{0, 3} {
		limit := pool
		if limit == 0 {
			limit = 8 // the default
		}
		t.Run(fmt.Sprintf("pool %d", limit), func(t *testing.T) {
			e := newEnv(t, withData(demo.Generate(10, 10, 2)), withDemo(demo.WithLatency(20*time.Millisecond)), withPool(pool))
			codes := make([]string, 0, 50)
			for i := range 40 {
				codes = append(codes, fmt.Sprintf("BS%04d", i+1))
			}
			codes[39] = "NOPE"
			codes = append(codes, codes[:10]...) // 50 codes, 40 distinct
			data := e.mustQuery(t, `query($c: [String!]!) { billingSites(codes: $c) { code } }`, map[string]any{"c": codes})

			var got struct{ BillingSites []*struct{ Code string } }
			require.NoError(t, json.Unmarshal(data, &got))
			require.Len(t, got.BillingSites, 50)
			for i, c := range codes {
				if c == "NOPE" {
					require.Nil(t, got.BillingSites[i])
					continue
				}
				require.Equal(t, c, got.BillingSites[i].Code, "entry %d", i)
			}
			require.Len(t, e.upstream(), 40)
			require.LessOrEqual(t, e.demo.MaxInFlight("billing_site"), int64(limit))
			require.Greater(t, e.demo.MaxInFlight("billing_site"), int64(1), "the pool must run GETs concurrently")
		})
	}
}

// TestLoneKeysSkipTheBatchWindow runs with a 30-second batching window and
// a 5-second request deadline, so that a lookup that waited for the window
// would fail (after 30 s: a dataloader thunk outwaits its context) rather
// than pass slowly. A lookup whose loader can see no other key in the
// operation skips the window and answers at once, at each level, and so
// does a relation under one list (its batch resolver holds every parent).
// When several fields reach the same loader, each with at most one list
// above it, they still share one batch and one upstream call, which leaves
// as soon as their keys have all arrived.
func TestLoneKeysSkipTheBatchWindow(t *testing.T) {
	e := newEnv(t, withWait(30*time.Second),
		withSecurity(gateway.Security{RequestTimeout: 5 * time.Second}))
	cases := []struct {
		query string
		want  []string
	}{
		{`{ project(code: "FLASH") { code ennis { reference } } }`,
			[]string{upProjects + "?code=FLASH", upEnnis + "?short_name=DC999"}},
		{`{ enni(reference: "CN012345") { reference projects { code } } }`,
			[]string{upEnnis + "?reference=CN012345", upProjects}},
		{`{ business(code: "AFAUX01234567891") { code } }`, []string{upBusiness}},
		{`{ node(id: "` + domain.NewID(domain.KindProject, "FLASH") + `") { id } }`, []string{upProjects + "?code=FLASH"}},
		{`query Q { ...F } fragment F on Query { project(code: "FLASH") { code } }`, []string{upProjects + "?code=FLASH"}},
		{`{ a: project(code: "FLASH") { code } b: project(code: "FLASH-2") { code } }`, []string{upProjects}},
		// Relations under one list: the batch resolver holds every parent.
		{`{ projects(filter: {code: "FLASH"}) { code ennis { reference } } }`,
			[]string{upProjects + "?code=FLASH", upEnnis + "?short_name=DC999"}},
		{`{ project(code: "FLASH") { ennis { reference projects { code } } } }`,
			[]string{upProjects + "?code=FLASH", upEnnis + "?short_name=DC999", upProjects}},
		// Two relations under lists: their two batch calls make one batch.
		{`{ a: projects(filter: {code: "FLASH"}) { ennis { reference } } b: projects(filter: {code: "PRJ-DC123-FIBRE"}) { ennis { reference } } }`,
			[]string{upProjects + "?code=FLASH", upProjects + "?code=PRJ-DC123-FIBRE", upEnnis}},
		// Two fields reach each loader: one batch per level, which leaves
		// once both keys are in.
		{`{ a: project(code: "FLASH") { ennis { reference } } b: project(code: "PRJ-DC123-FIBRE") { ennis { reference } } }`,
			[]string{upProjects, upEnnis}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			e.mustQuery(t, tc.query, nil)
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}
}

package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// TestConnectionsReadWhatListsRead checks that a connection costs the
// upstream calls of the plain list with the same filter: the same call
// cold, shared with the plain list in one request, none when the shared
// cache is warm.
func TestConnectionsReadWhatListsRead(t *testing.T) {
	cases := []struct{ list, conn string }{
		{`{ ennis(filter: {offer: BPEA, active: true}) { reference } }`,
			`{ enniConnection(filter: {offer: BPEA, active: true}, search: "regio", first: 2) { totalCount nodes { reference } } }`},
		{`{ ennis { reference } }`, `{ enniConnection(orderBy: {field: LABEL, direction: DESC}) { edges { cursor node { reference } } } }`},
		{`{ projects(filter: {active: true}) { code } }`, `{ projectConnection(filter: {active: true}, search: "dc") { totalCount } }`},
		{`{ businesses { code } }`, `{ businessConnection(orderBy: {field: MODIFICATION_DATE}) { nodes { code } } }`},
	}
	for _, tc := range cases {
		t.Run(tc.conn, func(t *testing.T) {
			plain := newEnv(t)
			plain.mustQuery(t, tc.list, nil)
			want := plain.upstream()
			require.Len(t, want, 1)

			e := newEnv(t, withCache(cache.Config{}))
			e.mustQuery(t, tc.conn, nil)
			require.Equal(t, want, e.upstream(), "cold: the plain list's call")
			e.mustQuery(t, tc.conn, nil)
			require.Empty(t, e.upstream(), "warm: no call")

			both := fmt.Sprintf("{ a: %s b: %s }", tc.list[2:len(tc.list)-1], tc.conn[2:len(tc.conn)-1])
			plain.mustQuery(t, both, nil)
			require.Equal(t, want, plain.upstream(), "one call for the list and the connection")
		})
	}
}

// TestConnectionRelationsCostTwoCalls checks the N+1 rules under nodes and
// edges.node, with a 30-second batching window and a 5-second deadline, so
// that a relation that waited for the window would fail rather than pass
// slowly.
func TestConnectionRelationsCostTwoCalls(t *testing.T) {
	e := newEnv(t, withData(demo.Generate(500, 2000, 50)), withWait(30*time.Second),
		withSecurity(gateway.Security{RequestTimeout: 5 * time.Second}))
	cases := []struct {
		query string
		want  []string
	}{
		{`{ enniConnection(first: 50) { nodes { reference projects { code } } } }`, []string{upEnnis, upProjects}},
		{`{ enniConnection(first: 50, orderBy: {field: LABEL}) { edges { node { projects { code } } } } }`, []string{upEnnis, upProjects}},
		{`{ enniConnection(search: "c0007", last: 100) { nodes { projects { code } } edges { node { projects { active } } } } }`, []string{upEnnis, upProjects}},
		{`{ enniConnection(filter: {offer: BPEA}, first: 50) { nodes { projects { code } } } }`, []string{upEnnis + "?offer=BPEA", upProjects}},
		{`{ projectConnection(first: 50) { nodes { code ennis { reference } } } }`, []string{upProjects, upEnnis}},
		{`{ projectConnection(filter: {active: true}, first: 50) { edges { node { ennis(filter: {offer: BPE}) { reference } } } } }`,
			[]string{upProjects + "?active=true", upEnnis + "?offer=BPE"}},
		// One client on the page: the filtered call, as under projects.
		{`{ projectConnection(filter: {active: true}, search: "p00002", first: 1) { nodes { ennis { reference } } } }`,
			[]string{upProjects + "?active=true", upEnnis + "?short_name=C0003"}},
		{`{ projectConnection(first: 5) { nodes { ennis { reference projects { code } } } } }`, []string{upProjects, upEnnis}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			e.mustQuery(t, tc.query, nil)
			require.ElementsMatch(t, tc.want, e.upstream())
		})
	}
}

// TestConnectionNodesRefetch checks that a connection's nodes carry the
// global IDs node(id:) refetches.
func TestConnectionNodesRefetch(t *testing.T) {
	e := newEnv(t)
	var got struct {
		E struct {
			Nodes []struct{ ID, Reference string }
		} `json:"enniConnection"`
		P struct {
			Edges []struct{ Node struct{ ID, Code string } }
		} `json:"projectConnection"`
		B struct{ Nodes []struct{ ID, Code string } } `json:"businessConnection"`
	}
	require.NoError(t, json.Unmarshal(e.mustQuery(t, `{
		enniConnection(search: "bretagne") { nodes { id reference } }
		projectConnection(last: 1) { edges { node { id code } } }
		businessConnection(first: 1) { nodes { id code } } }`, nil), &got))
	require.Len(t, got.E.Nodes, 1)
	for _, c := range []struct{ id, field, want string }{
		{got.E.Nodes[0].ID, "... on Enni { reference }", got.E.Nodes[0].Reference},
		{got.P.Edges[0].Node.ID, "... on Project { code }", got.P.Edges[0].Node.Code},
		{got.B.Nodes[0].ID, "... on Business { code }", got.B.Nodes[0].Code},
	} {
		data := e.mustQuery(t, `query($id: ID!) { node(id: $id) { id `+c.field+` } }`, map[string]any{"id": c.id})
		require.Contains(t, string(data), `"`+c.want+`"`)
		require.Contains(t, string(data), `"`+c.id+`"`)
	}
}

// TestConnectionBadInput checks that every argument the contract refuses
// makes the field null with BAD_USER_INPUT, leaves the other fields
// answered, and costs no upstream call.
func TestConnectionBadInput(t *testing.T) {
	e := newEnv(t)
	var page struct {
		C struct{ PageInfo struct{ EndCursor string } } `json:"enniConnection"`
	}
	require.NoError(t, json.Unmarshal(e.mustQuery(t, `{ enniConnection(first: 2) { pageInfo { endCursor } } }`, nil), &page))
	enniCursor := page.C.PageInfo.EndCursor
	e.upstream()
	cases := []struct {
		field string
		vars  map[string]any
	}{
		{`enniConnection(first: $n, last: $n)`, map[string]any{"n": 1}},
		{`enniConnection(first: $n)`, map[string]any{"n": -1}},
		{`projectConnection(last: $n)`, map[string]any{"n": -5}},
		{`businessConnection(first: $n)`, map[string]any{"n": 101}},
		{`enniConnection(last: $n)`, map[string]any{"n": 1000}},
		{`enniConnection(after: $c)`, map[string]any{"c": "not-a-cursor"}},
		{`enniConnection(before: $c)`, map[string]any{"c": "eyJ2Ijo5OX0"}}, // base64 of {"v":99}, not the layout
		{`projectConnection(after: $c)`, map[string]any{"c": enniCursor}},
		{`businessConnection(before: $c)`, map[string]any{"c": enniCursor}},
		{`enniConnection(after: $c, orderBy: {field: LABEL})`, map[string]any{"c": enniCursor}},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			decl := "$n: Int"
			if _, ok := tc.vars["c"]; ok {
				decl = "$c: String"
			}
			r := e.query(t, fmt.Sprintf(`query(%s) { x: %s { totalCount } terminateReasons { code } }`, decl, tc.field), tc.vars)
			require.Len(t, r.Errors, 1, r.Body)
			require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Extensions["code"], r.Body)
			require.Equal(t, []any{"x"}, r.Errors[0].Path)
			require.Contains(t, string(r.Data), `"x":null`)
			require.Contains(t, string(r.Data), `"terminateReasons":[{`)
			require.NotContains(t, e.upstream(), upEnnis, "refused before any list call")
		})
	}
}

// TestConnectionCursorSurvivesUpstreamChanges pages once, changes the demo
// upstream's data (doors added at the front, doors removed on the first
// page and further on), then pages on with the cursor: the second page
// starts right after the cursor's door in the new data, forward and back.
func TestConnectionCursorSurvivesUpstreamChanges(t *testing.T) {
	data := demo.Generate(10, 60, 5)
	e := newEnv(t, withData(data))
	const q = `query($after: String, $before: String, $first: Int, $last: Int, $order: EnniOrder) {
		enniConnection(search: "c0002", orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
			totalCount edges { cursor node { reference } } } }`
	type page struct {
		C struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   struct{ Reference string }
			}
		} `json:"enniConnection"`
	}
	get := func(vars map[string]any) page {
		var p page
		require.NoError(t, json.Unmarshal(e.mustQuery(t, q, vars), &p))
		return p
	}
	refsOf := func(p page) []string {
		var out []string
		for _, edge := range p.C.Edges {
			out = append(out, edge.Node.Reference)
		}
		return out
	}
	for _, order := range []any{nil, map[string]any{"field": "LABEL", "direction": "DESC"}} {
		e.demo.SetDataset(data)
		all := refsOf(get(map[string]any{"first": 100, "order": order}))
		require.Len(t, all, 12)
		p1 := get(map[string]any{"first": 4, "order": order})
		cur := p1.C.Edges[3].Cursor

		changed := *data
		changed.Ennis = slices.Clone(data.Ennis)
		changed.Ennis = slices.DeleteFunc(changed.Ennis, func(d demo.Enni) bool {
			return d.Reference == all[1] || d.Reference == all[8]
		})
		added := demo.Enni{Reference: "CN999999", ShortName: "C0002", Name: "Client C0002", Label: "Porte ajoutée"}
		changed.Ennis = append([]demo.Enni{added}, changed.Ennis...)
		e.demo.SetDataset(&changed)

		now := refsOf(get(map[string]any{"first": 100, "order": order}))
		at := slices.Index(now, all[3])
		require.Equal(t, now[at+1:at+5], refsOf(get(map[string]any{"first": 4, "after": cur, "order": order})))
		require.Equal(t, now[max(0, at-4):at], refsOf(get(map[string]any{"last": 4, "before": cur, "order": order})))
	}
}

// TestConnectionUpstreamFailure checks that a connection fails like its
// list: the field alone is null with the upstream's code and its path, and
// the rest of the response keeps its data.
func TestConnectionUpstreamFailure(t *testing.T) {
	e := newEnv(t)
	e.fault(upEnnis, status(http.StatusServiceUnavailable, ""))
	r := e.query(t, `{ enniConnection(search: "regio") { totalCount } businessConnection(first: 1) { totalCount } }`, nil)
	require.Len(t, r.Errors, 1, r.Body)
	require.Equal(t, "UPSTREAM_UNAVAILABLE", r.Errors[0].Extensions["code"])
	require.Equal(t, []any{"enniConnection"}, r.Errors[0].Path)
	require.JSONEq(t, `{"enniConnection": null, "businessConnection": {"totalCount": 5}}`, string(r.Data))
}

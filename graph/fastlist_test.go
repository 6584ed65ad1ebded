package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/graph"
	"github.com/covage/gateway/graph/generated"
	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/loaders"
	"github.com/covage/gateway/internal/plan"
)

// tricky holds every escaping case gqlgen's string marshaler knows, plus
// invalid UTF-8 and non-ASCII text.
const tricky = "a\"b\\c\nd\re\tf\x01g\x1fh</script>\u2028é\xff"

func ptr[T any](v T) *T { return &v }

// fakeUpstream serves fixed lists with every optional field both set and
// unset.
type fakeUpstream struct {
	ennis     []*domain.Enni
	sites     map[string]*domain.BillingSite
	nilInList bool
	ennisErr  error
}

func (f *fakeUpstream) Projects(context.Context, domain.ProjectFilter) ([]*domain.Project, error) {
	return []*domain.Project{
		{Code: "P1", Active: true, StartDate: ptr(domain.Date("2022-01-14")), EndDate: ptr(domain.Date("2025-01-14")), ClientCode: ptr("C1")},
		{Code: tricky, Active: false},
	}, nil
}

func (f *fakeUpstream) Ennis(_ context.Context, flt domain.EnniFilter) ([]*domain.Enni, error) {
	if f.ennisErr != nil {
		return nil, f.ennisErr
	}
	if f.nilInList {
		return []*domain.Enni{f.ennis[0], nil}, nil
	}
	if flt.ShortName != nil {
		var out []*domain.Enni
		for _, e := range f.ennis {
			if e.ShortName != nil && *e.ShortName == *flt.ShortName {
				out = append(out, e)
			}
		}
		return out, nil
	}
	return f.ennis, nil
}

func (f *fakeUpstream) Businesses(context.Context) ([]*domain.Business, error) { return nil, nil }

func (f *fakeUpstream) BillingSite(_ context.Context, code string) (*domain.BillingSite, error) {
	if s, ok := f.sites[code]; ok {
		return s, nil
	}
	return nil, errNotFound
}

func (f *fakeUpstream) TerminateReasons(context.Context) ([]*domain.TerminateReason, error) {
	return []*domain.TerminateReason{{Code: ptr(domain.TerminateOther), Label: "Autre"}, {Label: tricky}}, nil
}

func (f *fakeUpstream) ChangeReasons(context.Context) ([]*domain.ChangeReason, error) {
	return []*domain.ChangeReason{{Code: ptr(domain.ChangeUpgrade), Label: "Montée"}, {Label: tricky}}, nil
}

func (f *fakeUpstream) SiteConnectionTypes(context.Context) ([]*domain.SiteConnectionType, error) {
	return []*domain.SiteConnectionType{{Code: ptr(domain.SiteDatacenter), Label: "Datacenter"}, {Label: tricky}}, nil
}

var errNotFound = errors.New("not found")

func newFake(nilInList bool) *fakeUpstream {
	return &fakeUpstream{
		nilInList: nilInList,
		ennis: []*domain.Enni{
			{Code: ptr("1"), Name: ptr("Client C1"), ShortName: ptr("C1"), Reference: "CN000001", Label: ptr(tricky),
				Offer: ptr(domain.OfferBPEA), Dsp: ptr("OXO"), DeliveryMode: ptr("National"), Active: true},
			{Reference: tricky},
		},
		sites: map[string]*domain.BillingSite{
			"BS1": {Code: "BS1", Description: ptr(tricky)},
			"BS2": {Code: "BS2"},
		},
	}
}

// serve runs query through gqlgen with or without FastLists and returns
// the raw response body.
func serve(t *testing.T, up loaders.Upstream, fast bool, query string) string {
	t.Helper()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}))
	srv.AddTransport(transport.POST{})
	srv.SetRecoverFunc(func(context.Context, any) error { return errors.New("internal system error") })
	if fast {
		srv.AroundFields(plan.New().FastLists)
	}
	h := loaders.Middleware(up, loaders.Config{IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }}, srv)
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return string(out)
}

// TestFastListsMatchGqlgen checks that the fast path writes exactly what
// gqlgen writes, byte for byte, for every leaf field it knows and for the
// shapes it must hand back to gqlgen.
func TestFastListsMatchGqlgen(t *testing.T) {
	// Every bound leaf of the schema, so that a new one is compared too.
	schema := executableSchema()
	allEnni := strings.Join(boundLeaves(t, schema, "Enni"), " ") + " __typename"
	allProject := strings.Join(boundLeaves(t, schema, "Project"), " ") + " __typename"
	allSite := strings.Join(boundLeaves(t, schema, "BillingSite"), " ") + " __typename"
	reasons := func(name string) string { return strings.Join(boundLeaves(t, schema, name), " ") + " __typename" }
	tests := []struct {
		name      string
		query     string
		nilInList bool
		ennisErr  error
	}{
		{"every Enni field", `{ ennis { ` + allEnni + ` } }`, false, nil},
		{"every Project field", `{ projects { ` + allProject + ` } }`, false, nil},
		{"reason lists", `{ terminateReasons { ` + reasons("TerminateReason") + ` } changeReasons { ` + reasons("ChangeReason") + ` } siteConnectionTypes { ` + reasons("SiteConnectionType") + ` } }`, false, nil},
		{"reason lists, other order", `{ terminateReasons { code label __typename } changeReasons { code label } siteConnectionTypes { label code } }`, false, nil},
		{"billing sites with a null", `{ billingSites(codes: ["BS1", "NOPE", "BS2", "BS1"]) { ` + allSite + ` } }`, false, nil},
		{"aliases and repeats", `{ ennis { a: reference reference a: reference b: active } }`, false, nil},
		{"fragments and Node", `{ ennis { ...F ... on Node { id } ... on Enni { offer } } } fragment F on Enni { label }`, false, nil},
		{"skip and include", `{ ennis { reference label @skip(if: true) active @include(if: false) code @include(if: true) } }`, false, nil},
		{"nested relation", `{ projects { code ennis { reference label } } }`, false, nil},
		{"nested relation, every field", `{ projects { ` + allProject + ` ennis { ` + allEnni + ` } } ennis { ` + allEnni + ` projects { ` + allProject + ` } } }`, false, nil},
		{"nested relation, aliases, __typename, two relations", `{ projects { a: code ennis { r: reference __typename } b: ennis { label } code } }`, false, nil},
		{"one relation asked twice, selections merged", `{ projects { ennis { reference } ennis { label reference } } }`, false, nil},
		{"relation under fragments", `{ projects { ... on Project { ennis { ...E } } } } fragment E on Enni { reference ... on Node { id } }`, false, nil},
		{"deeper relation falls back", `{ projects { code ennis { reference projects { code } } } }`, false, nil},
		{"filtered root without look-ahead falls back", `{ projects(filter: {code: "P1"}) { code ennis { reference } } }`, false, nil},
		{"failing relation falls back with gqlgen's errors", `{ projects { code ennis { reference } } }`, false, errors.New("boom")},
		{"nested relation with filter", `{ projects { ennis(filter: {active: true}) { reference } } }`, false, nil},
		{"enni projects", `{ ennis { reference projects { code startDate } } }`, false, nil},
		{"one fragment field merged differently in two places", `{ projects { ...F ennis { label } } project(code: "P1") { ...F } } fragment F on Project { ennis { reference } }`, false, nil},
		{"and the other way round", `{ project(code: "P1") { ...F } projects { ...F ennis { label } } } fragment F on Project { ennis { reference } }`, false, nil},
		{"nil element in a non-null list falls back", `{ ennis { reference } }`, true, nil},
		{"empty selection after skip falls back", `{ ennis { reference @skip(if: true) __typename @skip(if: true) } }`, false, nil},
		{"connection nodes and edges", `{ enniConnection(orderBy: {field: LABEL}) { totalCount nodes { ` + allEnni + ` } edges { cursor node { reference } } } }`, false, nil},
		{"connection nodes with a relation", `{ projectConnection(last: 2) { nodes { code ennis { reference label } } edges { node { ennis { reference } } } } }`, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := func() *fakeUpstream {
				f := newFake(tc.nilInList)
				f.ennisErr = tc.ennisErr
				return f
			}
			want := serve(t, fake(), false, tc.query)
			got := serve(t, fake(), true, tc.query)
			require.Equal(t, want, got)
		})
	}
}

// TestFastListsTakesThePath proves the fast path runs: the middleware hands
// gqlgen a marshaler, not the typed list, for a leaf-only list and for a
// relation that look-ahead has started, and the typed list otherwise. The
// field observed is the one aliased "root".
func TestFastListsTakesThePath(t *testing.T) {
	tests := []struct {
		name  string
		query string
		fast  bool
	}{
		{"leaf-only list", `{ root: ennis { reference } }`, true},
		{"relation started by look-ahead", `{ root: ennis { projects { code } } }`, true},
		{"relation started by look-ahead, other way", `{ root: projects { ennis { reference } } }`, true},
		{"relation that would wait for a batch", `{ root: projects(filter: {code: "P1"}) { ennis { reference } } }`, false},
		{"relation two levels deep", `{ root: ennis { projects { ennis { reference } } } }`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sawMarshaler, sawList bool
			srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}))
			srv.AddTransport(transport.POST{})
			srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
				res, err := next(ctx)
				if graphql.GetFieldContext(ctx).Field.Alias == "root" {
					_, sawMarshaler = res.(graphql.Marshaler)
					_, isEnnis := res.([]*domain.Enni)
					_, isProjects := res.([]*domain.Project)
					sawList = isEnnis || isProjects
				}
				return res, err
			})
			srv.AroundFields(plan.New().FastLists)
			h := loaders.Middleware(newFake(false), loaders.Config{}, srv)
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":`+jsonString(tc.query)+`}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.NotContains(t, rec.Body.String(), `"errors"`)
			require.Equal(t, tc.fast, sawMarshaler)
			require.Equal(t, !tc.fast, sawList)
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFastListsVariables checks that a selection whose directives read
// variables is collected per request, not remembered from the first one.
// It runs through the gateway's real handler: its query cache keeps the
// parsed document, so the same selection pointers come back with other
// variables, which is what the fast path's memo is keyed by. (A handler
// without a query cache parses every request anew and cannot tell.)
func TestFastListsVariables(t *testing.T) {
	fake := newFake(false)
	fake.ennis = []*domain.Enni{{Reference: "CN000001", Label: ptr("L")}, {Reference: "x"}}
	h := gateway.New(gateway.Options{Upstream: fake, Loaders: loaders.Config{IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }}})
	queries := []string{
		`query($s: Boolean!) { ennis { reference label @skip(if: $s) } }`,
		`query($s: Boolean!) { ennis { reference ... on Enni @skip(if: $s) { label } } }`,
		`query($s: Boolean!) { ennis { reference ...F } } fragment F on Enni { label @skip(if: $s) }`,
	}
	tests := []struct {
		name string
		skip bool
		want string
	}{
		{"skipped", true, `{"data":{"ennis":[{"reference":"CN000001"},{"reference":"x"}]}}`},
		{"kept", false, `{"data":{"ennis":[{"reference":"CN000001","label":"L"},{"reference":"x","label":null}]}}`},
		{"skipped again", true, `{"data":{"ennis":[{"reference":"CN000001"},{"reference":"x"}]}}`},
	}
	for _, q := range queries {
		for _, tc := range tests {
			t.Run(tc.name+" "+q, func(t *testing.T) {
				body, err := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"s": tc.skip}})
				require.NoError(t, err)
				req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, tc.want, rec.Body.String())
			})
		}
	}
}

// TestFastListsVariablesMatchGqlgen runs selections whose @skip and
// @include read variables through the gateway's real handler (fast path,
// query cache, memo of collected selections) and through plain gqlgen, the
// variables changing from one request to the next, and requires the same
// bytes each time: relations, fragments and inline fragments included.
// The gateway's transport leaves '<', '>', '&', U+2028 and U+2029
// unescaped where gqlgen's encoder escapes them (internal/gateway's
// writeJSON: the same JSON value), so both bodies are compared with those
// escaped.
func TestFastListsVariablesMatchGqlgen(t *testing.T) {
	isNotFound := func(err error) bool { return errors.Is(err, errNotFound) }
	h := gateway.New(gateway.Options{Upstream: newFake(false), Loaders: loaders.Config{IsNotFound: isNotFound}})
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}))
	srv.AddTransport(transport.POST{})
	ref := loaders.Middleware(newFake(false), loaders.Config{IsNotFound: isNotFound}, srv)
	post := func(h http.Handler, body []byte) string {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var escaped bytes.Buffer
		json.HTMLEscape(&escaped, rec.Body.Bytes())
		return escaped.String()
	}
	queries := []string{
		`query($s: Boolean!, $i: Boolean!) { ennis { reference label @skip(if: $s) active @include(if: $i) } }`,
		`query($s: Boolean!, $i: Boolean!) { projects { code ennis @skip(if: $s) { reference label @include(if: $i) } } }`,
		`query($s: Boolean!, $i: Boolean!) { ennis { reference projects @include(if: $i) { code ... on Project @skip(if: $s) { startDate } } } }`,
		`query($s: Boolean!, $i: Boolean!) { projects { ...F @skip(if: $s) ennis { ...E } } } fragment F on Project { code clientCode } fragment E on Enni { reference label @include(if: $i) }`,
		`query($s: Boolean!, $i: Boolean!) { billingSites(codes: ["BS1", "NOPE", "BS2"]) { code description @skip(if: $s) } terminateReasons { code @include(if: $i) label } }`,
		`query($s: Boolean!, $i: Boolean!) { ennis { reference @skip(if: $s) __typename @include(if: $i) } }`,
	}
	for _, q := range queries {
		for _, v := range [][2]bool{{true, false}, {false, true}, {true, true}, {false, false}, {true, false}} {
			t.Run(fmt.Sprintf("s=%v i=%v %s", v[0], v[1], q), func(t *testing.T) {
				body, err := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"s": v[0], "i": v[1]}})
				require.NoError(t, err)
				want := post(ref, body)
				require.NotContains(t, want, `"errors"`)
				require.Equal(t, want, post(h, body))
			})
		}
	}
}

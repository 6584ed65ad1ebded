package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/domain"
)

const projectFields = `id code active startDate endDate clientCode`
const enniFields = `id code name shortName reference label offer dsp deliveryMode active`

// TestEndpointsAndFilters runs every root field and every filter against the
// sample data and compares the answers with golden files.
func TestEndpointsAndFilters(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"projects", `{ projects { ` + projectFields + ` } }`, nil},
		{"projects_by_code", `query($c: String) { projects(filter: {code: $c}) { code clientCode } }`, map[string]any{"c": "FLASH"}},
		{"projects_inactive", `{ projects(filter: {active: false}) { code active } }`, nil},
		{"project", `{ project(code: "FLASH") { ` + projectFields + ` } missing: project(code: "NOPE") { code } }`, nil},
		{"ennis", `{ ennis { ` + enniFields + ` } }`, nil},
		{"ennis_by_reference", `{ ennis(filter: {reference: "CN012345"}) { reference shortName } }`, nil},
		{"ennis_by_name", `{ ennis(filter: {name: "client"}) { reference name } }`, nil},
		{"ennis_by_short_name", `{ ennis(filter: {shortName: "DC456"}) { reference shortName } }`, nil},
		{"ennis_inactive", `{ ennis(filter: {active: false}) { reference active } }`, nil},
		{"ennis_by_offer", `{ ennis(filter: {offer: BPE}) { reference offer } }`, nil},
		{"ennis_by_dsp", `{ ennis(filter: {dsp: "OXO"}) { reference dsp } }`, nil},
		{"ennis_by_delivery_mode", `{ ennis(filter: {deliveryMode: "National"}) { reference deliveryMode } }`, nil},
		{"ennis_combined", `{ ennis(filter: {offer: BPEA, active: true, shortName: "DC123"}) { reference offer active shortName } }`, nil},
		{"enni", `{ enni(reference: "CN012345") { ` + enniFields + ` } missing: enni(reference: "NOPE") { reference } }`, nil},
		{"businesses", `{ businesses { id code label modificationDate validityEndDate status } }`, nil},
		{"business", `{ business(code: "AFAUX01234567890") { id code label modificationDate } missing: business(code: "NOPE") { code } }`, nil},
		{"billing_site", `{ billingSite(code: "AUX00") { id code description } missing: billingSite(code: "NOPE") { code } }`, nil},
		{"billing_sites", `{ billingSites(codes: ["AUX01", "NOPE", "AUX00", "AUX01"]) { code description } }`, nil},
		{"terminate_reasons", `{ terminateReasons { code label } }`, nil},
		{"change_reasons", `{ changeReasons { code label } }`, nil},
		{"site_connection_types", `{ siteConnectionTypes { code label } }`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, e.mustQuery(t, tc.query, tc.vars))
		})
	}
}

// TestFiltersReachUpstream checks that root filters are passed upstream as
// the documented query parameters rather than applied locally.
func TestFiltersReachUpstream(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		query string
		want  string
	}{
		{`{ projects(filter: {code: "FLASH", active: true}) { code } }`, "/api/v1/referential/project?active=true&code=FLASH"},
		{`{ ennis(filter: {reference: "R", name: "N", shortName: "S", active: false, offer: BPEA, dsp: "D", deliveryMode: "M"}) { reference } }`,
			"/api/v1/referential/enni/?active=false&delivery_mode=M&dsp=D&name=N&offer=BPEA&reference=R&short_name=S"},
	}
	for _, tc := range cases {
		e.mustQuery(t, tc.query, nil)
		require.Equal(t, []string{tc.want}, e.upstream(), tc.query)
	}
}

// TestRelations checks both directions of the client relation against the
// sample data: Project.ennis are the doors whose shortName is the project's
// clientCode, and Enni.projects the projects whose clientCode is the door's
// shortName.
func TestRelations(t *testing.T) {
	e := newEnv(t)
	ds := demo.Sample()

	var got struct {
		Projects []struct {
			Code       string
			ClientCode *string
			Ennis      []struct{ Reference, ShortName string }
		}
		Ennis []struct {
			Reference string
			ShortName *string
			Projects  []struct{ Code, ClientCode string }
		}
	}
	data := e.mustQuery(t, `{ projects { code clientCode ennis { reference shortName } } ennis { reference shortName projects { code clientCode } } }`, nil)
	require.NoError(t, json.Unmarshal(data, &got))
	require.Len(t, got.Projects, len(ds.Projects))
	require.Len(t, got.Ennis, len(ds.Ennis))

	related := 0
	for _, p := range got.Projects {
		var want []string
		for _, d := range ds.Ennis {
			if p.ClientCode != nil && d.ShortName == *p.ClientCode {
				want = append(want, d.Reference)
			}
		}
		var have []string
		for _, d := range p.Ennis {
			have = append(have, d.Reference)
		}
		require.Equal(t, want, have, "ennis of project %s", p.Code)
		related += len(have)
	}
	require.Positive(t, related, "the sample data must relate projects to doors")
	for _, d := range got.Ennis {
		var want []string
		for _, p := range ds.Projects {
			if d.ShortName != nil && p.ClientCode == *d.ShortName {
				want = append(want, p.Code)
			}
		}
		var have []string
		for _, p := range d.Projects {
			have = append(have, p.Code)
		}
		require.Equal(t, want, have, "projects of door %s", d.Reference)
	}
}

// TestNestedEnniFilter checks that Project.ennis(filter:) combines the
// relation with the filter.
func TestNestedEnniFilter(t *testing.T) {
	e := newEnv(t)
	var got struct {
		Projects []struct {
			ClientCode *string
			Ennis      []struct {
				ShortName string
				Offer     string
			}
		}
	}
	data := e.mustQuery(t, `{ projects { clientCode ennis(filter: {offer: BPEA}) { shortName offer } } }`, nil)
	require.NoError(t, json.Unmarshal(data, &got))
	seen := 0
	for _, p := range got.Projects {
		for _, d := range p.Ennis {
			require.Equal(t, *p.ClientCode, d.ShortName)
			require.Equal(t, "BPEA", d.Offer)
			seen++
		}
	}
	require.Positive(t, seen)
	// One project list call and one door list call with the nested filter.
	require.ElementsMatch(t, []string{"/api/v1/referential/project", "/api/v1/referential/enni/?offer=BPEA"}, e.upstream())
}

// TestNode checks that every Node type round-trips through node(id:), and
// that a malformed or unknown id gives null without an error.
func TestNode(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		kind domain.Kind
		key  string
		sel  string
		want string
	}{
		{domain.KindProject, "FLASH", "... on Project { code }", `{"code":"FLASH"}`},
		{domain.KindEnni, "CN012345", "... on Enni { reference }", `{"reference":"CN012345"}`},
		{domain.KindBusiness, "AFAUX01234567890", "... on Business { code }", `{"code":"AFAUX01234567890"}`},
		{domain.KindBillingSite, "AUX00", "... on BillingSite { code description }", `{"code":"AUX00","description":"COVAGE INFRA"}`},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			id := domain.NewID(tc.kind, tc.key)
			data := e.mustQuery(t, `query($id: ID!) { node(id: $id) { id __typename `+tc.sel+` } }`, map[string]any{"id": id})
			var got struct{ Node map[string]any }
			require.NoError(t, json.Unmarshal(data, &got))
			require.Equal(t, id, got.Node["id"])
			require.Equal(t, string(tc.kind), got.Node["__typename"])
			delete(got.Node, "id")
			delete(got.Node, "__typename")
			b, _ := json.Marshal(got.Node)
			require.JSONEq(t, tc.want, string(b))
		})
	}
	for _, id := range []string{"", "not base64!", domain.NewID("Nope", "x"), domain.NewID(domain.KindProject, "NOPE"), domain.NewID(domain.KindBillingSite, "NOPE")} {
		data := e.mustQuery(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
		require.JSONEq(t, `{"node":null}`, string(data), "id %q", id)
	}
	// IDs are stable: the same object gets the same ID from any field.
	var ids struct {
		Project  struct{ ID string }
		Projects []struct {
			ID   string
			Code string
		}
	}
	require.NoError(t, json.Unmarshal(e.mustQuery(t, `{ project(code: "FLASH") { id } projects { id code } }`, nil), &ids))
	for _, p := range ids.Projects {
		if p.Code == "FLASH" {
			require.Equal(t, ids.Project.ID, p.ID)
		}
	}
}

// TestUnknownLabelIsNotAnError checks schema drift: a reason label the
// schema does not know keeps its label with a null code, and is logged.
func TestUnknownLabelIsNotAnError(t *testing.T) {
	ds := demo.Sample()
	ds.TerminateReasons = append(ds.TerminateReasons, "Motif inconnu du schéma")
	ds.ChangeReasons[0] = "  UPGRADE  (changement de DÉBIT) "
	ds.SiteConnectionTypes[3] = "Zone d’activité ZA"
	e := newEnv(t, withData(ds))
	data := e.mustQuery(t, `{ terminateReasons { code label } changeReasons { code label } siteConnectionTypes { code label } }`, nil)
	var got struct {
		TerminateReasons, ChangeReasons, SiteConnectionTypes []struct {
			Code  *string
			Label string
		}
	}
	require.NoError(t, json.Unmarshal(data, &got))
	last := got.TerminateReasons[len(got.TerminateReasons)-1]
	require.Nil(t, last.Code)
	require.Equal(t, "Motif inconnu du schéma", last.Label)
	require.Equal(t, "UPGRADE", *got.ChangeReasons[0].Code)
	require.Equal(t, "  UPGRADE  (changement de DÉBIT) ", got.ChangeReasons[0].Label)
	require.Equal(t, "BUSINESS_PARK", *got.SiteConnectionTypes[3].Code)
	require.Contains(t, e.log.String(), "Motif inconnu du sch")
}

// TestGETQuery checks the GET transport.
func TestGETQuery(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequest(http.MethodGet, e.gateway.URL+"/query?query="+strings.ReplaceAll(`{terminateReasons{code}}`, " ", "+"), nil)
	require.NoError(t, err)
	req.Header.Set("Apollo-Require-Preflight", "true") // CSRF prevention refuses a bare GET.
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Data struct{ TerminateReasons []struct{ Code string } }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got.Data.TerminateReasons, 5)
}

// TestPlaygroundAndHealth checks the other routes.
func TestPlaygroundAndHealth(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{"/": "/query", "/healthz": `"ok"`} {
		resp, err := http.Get(e.gateway.URL + path)
		require.NoError(t, err)
		body := new(strings.Builder)
		_, _ = fmt.Fprint(body, readAll(t, resp))
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, body.String(), want, path)
	}
	resp, err := http.Get(e.gateway.URL + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

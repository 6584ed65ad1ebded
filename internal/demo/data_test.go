package demo_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

// The reason lists as the upstream documentation prints them.
var (
	docTerminateReasons = []string{
		"Cessation d'activité",
		"Changement d'Operateur d'Infrastructure",
		"Déménagement sans reprise de lien COVAGE",
		"Déménagement avec reprise de lien COVAGE",
		"Autres motifs, précisez en commentaire",
	}
	docChangeReasons = []string{
		"Upgrade (Changement de débit)",
		"Downgrade (Changement de débit)",
		"Modification de Porte de Collecte (principale et/ou sécurisation)",
		"Modification des options du service (ajout, suppression, modification)",
		"Autres demandes de modifications",
	}
	docSiteConnectionTypes = []string{
		"Standard ou No-catégorisé", "Centre commercial", "Datacenter", "Zone d'activité ZA",
		"Aéroport", "Zone maritime", "Centre de santé ou hôpital", "Etablissement haute sécurité",
		"Etablissement patrimoine", "Prison", "Cimetière",
	}
)

func TestSample(t *testing.T) {
	t.Parallel()
	ds := demo.Sample()

	require.Contains(t, ds.Projects, demo.Project{Code: "FLASH", Active: true, StartDate: "2000-01-01", EndDate: "2099-12-31", ClientCode: "DC999"})
	require.Contains(t, ds.Ennis, demo.Enni{Code: "720", Name: "client", ShortName: "DC123", Reference: "CN012345", Label: "Collecte Nationale Entreprise", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true})
	require.Contains(t, ds.Businesses, demo.Business{ModificationDate: "2022-01-14T13:57:04Z", Code: "AFAUX01234567890", Label: "Affaire [Name client]-[Enseigne]"})
	require.Contains(t, ds.BillingSites, demo.BillingSite{Code: "AUX00", Description: "COVAGE INFRA"})
	require.Equal(t, docTerminateReasons, ds.TerminateReasons)
	require.Equal(t, docChangeReasons, ds.ChangeReasons)
	require.Equal(t, docSiteConnectionTypes, ds.SiteConnectionTypes)

	projectsPerClient := map[string]int{}
	inactive, noClient, noDates := 0, 0, 0
	for _, p := range ds.Projects {
		projectsPerClient[p.ClientCode]++
		if !p.Active {
			inactive++
		}
		if p.ClientCode == "" {
			noClient++
		}
		if p.StartDate == "" && p.EndDate == "" {
			noDates++
		}
	}
	for _, c := range []string{"DC123", "DC456", "DC789", "DC999"} {
		require.GreaterOrEqual(t, projectsPerClient[c], 2, c)
	}
	require.Zero(t, projectsPerClient["DC555"], "DC555 has doors but no project")
	require.Equal(t, 1, inactive)
	require.Equal(t, 1, noClient)
	require.Equal(t, 1, noDates)

	doorsPerClient := map[string]int{}
	offers, dsps, modes := map[string]int{}, map[string]int{}, map[string]int{}
	inactiveDoors := 0
	var cn001366 *demo.Enni
	for i, e := range ds.Ennis {
		doorsPerClient[e.ShortName]++
		offers[e.Offer]++
		dsps[e.Dsp]++
		modes[e.DeliveryMode]++
		if !e.Active {
			inactiveDoors++
		}
		if e.Reference == "CN001366" {
			cn001366 = &ds.Ennis[i]
		}
	}
	for _, c := range []string{"DC123", "DC456", "DC789", "DC999", "DC555"} {
		require.GreaterOrEqual(t, doorsPerClient[c], 2, c)
	}
	require.NotNil(t, cn001366)
	require.Equal(t, "BPEA", cn001366.Offer)
	require.Len(t, offers, 2)
	require.Greater(t, inactiveDoors, 1)
	require.Greater(t, len(dsps), 2)
	require.Equal(t, []string{"National", "Régional"}, keys(modes))

	withStatus, withEnd, noLabel := 0, 0, 0
	for _, b := range ds.Businesses {
		if b.Status != nil {
			withStatus++
		}
		if b.ValidityEndDate != "" {
			withEnd++
		}
		if b.Label == "" {
			noLabel++
		}
	}
	require.Positive(t, withStatus)
	require.Positive(t, withEnd)
	require.Equal(t, 1, noLabel)

	require.NotSame(t, ds, demo.Sample(), "every call returns a fresh copy")
	ds.Projects[0].Code = "CHANGED"
	require.Equal(t, "FLASH", demo.Sample().Projects[0].Code)
}

func TestSampleKeysAreUnique(t *testing.T) {
	t.Parallel()
	ds := demo.Sample()
	seen := map[string]bool{}
	for _, k := range append(append(codes(ds.Projects), references(ds.Ennis)...), billingCodes(ds.BillingSites)...) {
		require.False(t, seen[k], "duplicate key %s", k)
		seen[k] = true
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		projects, ennis, clients int
	}{
		{0, 0, 0},
		{10, 20, 3},
		{2000, 2000, 50},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d-%d", tt.projects, tt.ennis, tt.clients), func(t *testing.T) {
			t.Parallel()
			ds := demo.Generate(tt.projects, tt.ennis, tt.clients)
			require.Len(t, ds.Projects, tt.projects)
			require.Len(t, ds.Ennis, tt.ennis)
			require.Len(t, ds.Businesses, 100)
			require.Len(t, ds.BillingSites, 200)
			require.Equal(t, "BS0001", ds.BillingSites[0].Code)
			require.Equal(t, "BS0200", ds.BillingSites[199].Code)
			require.Equal(t, docTerminateReasons, ds.TerminateReasons)
			require.Equal(t, docChangeReasons, ds.ChangeReasons)
			require.Equal(t, docSiteConnectionTypes, ds.SiteConnectionTypes)
			require.Equal(t, ds, demo.Generate(tt.projects, tt.ennis, tt.clients), "deterministic")

			clients := map[string]bool{}
			for _, p := range ds.Projects {
				clients[p.ClientCode] = true
				require.NotEmpty(t, p.StartDate)
				require.NotEmpty(t, p.EndDate)
			}
			for _, e := range ds.Ennis {
				clients[e.ShortName] = true
			}
			require.LessOrEqual(t, len(clients), max(tt.clients, 1))
		})
	}
}

func TestGenerateShape(t *testing.T) {
	t.Parallel()
	ds := demo.Generate(2000, 2000, 50)

	require.Equal(t, demo.Project{Code: "P00001", Active: true, StartDate: "2020-01-02", EndDate: "2023-01-02", ClientCode: "C0002"}, ds.Projects[0])
	require.Equal(t, "P02000", ds.Projects[1999].Code)
	require.Equal(t, "C0001", ds.Projects[49].ClientCode)
	require.Equal(t, "CN000001", ds.Ennis[0].Reference)
	require.Equal(t, "Porte de collecte n°1", ds.Ennis[0].Label)
	require.Equal(t, "CN002000", ds.Ennis[1999].Reference)

	activeProjects, bpea, active, bpeaActive := 0, 0, 0, 0
	for _, p := range ds.Projects {
		if p.Active {
			activeProjects++
		}
	}
	for _, e := range ds.Ennis {
		if e.Offer == "BPEA" {
			bpea++
		}
		if e.Active {
			active++
		}
		if e.Offer == "BPEA" && e.Active {
			bpeaActive++
		}
	}
	require.Equal(t, 1800, activeProjects)
	require.Equal(t, 1000, bpea)
	require.Equal(t, 1900, active)
	// Doors i%20 == 0 are inactive and all even, hence BPE: every BPEA door
	// is active. The brief's "~950" assumed the two rules were independent.
	require.Equal(t, 1000, bpeaActive)
}

// TestGeneratedServedCounts checks the filtered answers a benchmark relies on.
func TestGeneratedServedCounts(t *testing.T) {
	t.Parallel()
	_, ts := start(t, demo.Generate(2000, 2000, 50))
	tests := []struct {
		path string
		want int
	}{
		{"enni/", 2000},
		{"enni/?offer=BPEA&active=true", 1000},
		{"enni/?offer=BPE&active=true", 900},
		{"enni/?short_name=C0007", 40},
		{"project/", 2000},
		{"project/?active=false", 200},
		{"business_code/", 100},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := get(t, ts.URL+api+tt.path)
			require.Equal(t, 200, res.status)
			require.Len(t, decode[[]map[string]any](t, res.body), tt.want)
		})
	}
}

func billingCodes(bs []demo.BillingSite) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Code)
	}
	return out
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package demo

import (
	"fmt"
	"time"
)

// Project is a project record exactly as Covage's referential API encodes it.
type Project struct {
	Code      string `json:"code"`
	Active    bool   `json:"active"`
	StartDate string `json:"start_date,omitempty"`
	EndDate   string `json:"end_date,omitempty"`
	// ClientCode is the customer's identifier, the same value as Enni.ShortName.
	ClientCode string `json:"code_client,omitempty"`
}

// Enni is a collection door record as upstream encodes it. Code is
// capitalised on the wire, as the upstream documentation's table says.
type Enni struct {
	Code         string `json:"Code,omitempty"`
	Name         string `json:"name"`
	ShortName    string `json:"short_name"`
	Reference    string `json:"reference"`
	Label        string `json:"label"`
	Offer        string `json:"offer"`
	Dsp          string `json:"dsp"`
	DeliveryMode string `json:"delivery_mode"`
	Active       bool   `json:"active"`
}

// Business is a business (affaire) record as upstream encodes it. An empty
// Label is left out of the JSON, so the sample can hold a business upstream
// sends without one.
type Business struct {
	Code             string `json:"code"`
	Label            string `json:"label,omitempty"`
	ModificationDate string `json:"modification_date,omitempty"`
	ValidityEndDate  string `json:"validity_end_date,omitempty"`
	Status           *int   `json:"status,omitempty"`
}

// BillingSite is a billing site record as upstream encodes it.
type BillingSite struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// Dataset is everything the fake upstream serves. Lists are served in the
// order they appear here.
type Dataset struct {
	Projects            []Project
	Ennis               []Enni
	Businesses          []Business
	BillingSites        []BillingSite
	TerminateReasons    []string
	ChangeReasons       []string
	SiteConnectionTypes []string
}

// terminateReasons, changeReasons and siteConnectionTypes are copied verbatim
// from the upstream documentation, accents, apostrophes and order included.
var (
	terminateReasons = []string{
		"Cessation d'activité",
		"Changement d'Operateur d'Infrastructure",
		"Déménagement sans reprise de lien COVAGE",
		"Déménagement avec reprise de lien COVAGE",
		"Autres motifs, précisez en commentaire",
	}
	changeReasons = []string{
		"Upgrade (Changement de débit)",
		"Downgrade (Changement de débit)",
		"Modification de Porte de Collecte (principale et/ou sécurisation)",
		"Modification des options du service (ajout, suppression, modification)",
		"Autres demandes de modifications",
	}
	siteConnectionTypes = []string{
		"Standard ou No-catégorisé",
		"Centre commercial",
		"Datacenter",
		"Zone d'activité ZA",
		"Aéroport",
		"Zone maritime",
		"Centre de santé ou hôpital",
		"Etablissement haute sécurité",
		"Etablissement patrimoine",
		"Prison",
		"Cimetière",
	}
)

func intPtr(i int) *int { return &i }

// Sample returns the hand-made demo data: the upstream documentation's
// examples plus enough records that every relation has several members.
// Clients DC123, DC456, DC789 and DC999 own projects and doors; DC555 owns
// doors but no project, and one project has no client at all. Each call
// returns a fresh copy, so callers may modify it.
func Sample() *Dataset {
	return &Dataset{
		Projects: []Project{
			{Code: "FLASH", Active: true, StartDate: "2000-01-01", EndDate: "2099-12-31", ClientCode: "DC999"},
			{Code: "FLASH-2", Active: true, StartDate: "2021-06-01", EndDate: "2026-05-31", ClientCode: "DC999"},
			{Code: "PRJ-DC123-FIBRE", Active: true, StartDate: "2022-01-01", EndDate: "2027-12-31", ClientCode: "DC123"},
			{Code: "PRJ-DC123-ENTREPRISE", Active: true, StartDate: "2023-03-15", EndDate: "2028-03-14", ClientCode: "DC123"},
			{Code: "PRJ-DC123-2018", Active: false, StartDate: "2018-01-01", EndDate: "2019-12-31", ClientCode: "DC123"},
			{Code: "PRJ-DC456-IDF", Active: true, StartDate: "2022-09-01", EndDate: "2030-08-31", ClientCode: "DC456"},
			{Code: "PRJ-DC456-OUEST", Active: true, StartDate: "2023-01-01", EndDate: "2025-12-31", ClientCode: "DC456"},
			{Code: "PRJ-DC456-SANS-DATE", Active: true, ClientCode: "DC456"},
			{Code: "PRJ-DC789-LYON", Active: true, StartDate: "2021-04-01", EndDate: "2031-03-31", ClientCode: "DC789"},
			{Code: "PRJ-DC789-MARSEILLE", Active: true, StartDate: "2024-02-01", EndDate: "2029-01-31", ClientCode: "DC789"},
			{Code: "PRJ-DC999-SUD", Active: true, StartDate: "2020-10-01", EndDate: "2025-09-30", ClientCode: "DC999"},
			{Code: "PRJ-INTERNE", Active: true, StartDate: "2019-01-01", EndDate: "2099-12-31"},
		},
		Ennis: []Enni{
			{Code: "720", Name: "client", ShortName: "DC123", Reference: "CN012345", Label: "Collecte Nationale Entreprise", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true},
			{Code: "721", Name: "client", ShortName: "DC123", Reference: "CN012346", Label: "Porte de collecte Sécurisée", Offer: "BPE", Dsp: "Covage", DeliveryMode: "National", Active: true},
			{Code: "722", Name: "client", ShortName: "DC123", Reference: "CN012347", Label: "Collecte Régionale Hauts-de-France", Offer: "BPE", Dsp: "Altitude", DeliveryMode: "Régional", Active: false},
			{Code: "723", Name: "client", ShortName: "DC123", Reference: "CN012348", Label: "Collecte Régionale Auvergne-Rhône-Alpes", Offer: "BPEA", Dsp: "Axione", DeliveryMode: "Régional", Active: true},
			{Code: "1366", Name: "Fibre Ouest Télécom", ShortName: "DC456", Reference: "CN001366", Label: "Collecte Régionale Île-de-France", Offer: "BPEA", Dsp: "Covage", DeliveryMode: "Régional", Active: true},
			{Code: "1367", Name: "Fibre Ouest Télécom", ShortName: "DC456", Reference: "CN001367", Label: "Porte de collecte Île-de-France Sud", Offer: "BPE", Dsp: "Covage", DeliveryMode: "Régional", Active: true},
			{Code: "1368", Name: "Fibre Ouest Télécom", ShortName: "DC456", Reference: "CN001368", Label: "Collecte Nationale Entreprise Sécurisée", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true},
			{Code: "1369", Name: "Fibre Ouest Télécom", ShortName: "DC456", Reference: "CN001369", Label: "Collecte Régionale Pays de la Loire", Offer: "BPE", Dsp: "Axione", DeliveryMode: "Régional", Active: false},
			{Code: "7890", Name: "Réseaux du Sud", ShortName: "DC789", Reference: "CN007890", Label: "Collecte Régionale Provence-Alpes-Côte d'Azur", Offer: "BPEA", Dsp: "Altitude", DeliveryMode: "Régional", Active: true},
			{Code: "7891", Name: "Réseaux du Sud", ShortName: "DC789", Reference: "CN007891", Label: "Collecte Régionale Occitanie", Offer: "BPE", Dsp: "Covage", DeliveryMode: "Régional", Active: true},
			{Code: "7892", Name: "Réseaux du Sud", ShortName: "DC789", Reference: "CN007892", Label: "Porte de collecte Lyon Gerland", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true},
			{Code: "9990", Name: "Flash Opérateur", ShortName: "DC999", Reference: "CN009990", Label: "Collecte Nationale Flash", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true},
			{Code: "9991", Name: "Flash Opérateur", ShortName: "DC999", Reference: "CN009991", Label: "Collecte Régionale Bretagne", Offer: "BPE", Dsp: "Axione", DeliveryMode: "Régional", Active: true},
			{Code: "5550", Name: "Opérateur Sans Projet", ShortName: "DC555", Reference: "CN005550", Label: "Collecte Régionale Grand Est", Offer: "BPE", Dsp: "Covage", DeliveryMode: "Régional", Active: true},
			{Code: "5551", Name: "Opérateur Sans Projet", ShortName: "DC555", Reference: "CN005551", Label: "Porte de collecte Sécurisée Normandie", Offer: "BPEA", Dsp: "Altitude", DeliveryMode: "Régional", Active: false},
			{Code: "5552", Name: "Opérateur Sans Projet", ShortName: "DC555", Reference: "CN005552", Label: "Collecte Nationale Entreprise Nouvelle-Aquitaine", Offer: "BPEA", Dsp: "OXO", DeliveryMode: "National", Active: true},
		},
		Businesses: []Business{
			{ModificationDate: "2022-01-14T13:57:04Z", Code: "AFAUX01234567890", Label: "Affaire [Name client]-[Enseigne]"},
			{ModificationDate: "2023-03-02T08:15:00Z", Code: "AFAUX01234567891", Label: "Affaire Réseaux du Sud-Agence Lyon", ValidityEndDate: "2025-12-31T23:59:59Z", Status: intPtr(1)},
			{ModificationDate: "2023-11-20T16:42:10Z", Code: "AFAUX01234567892", Label: "Affaire Flash Opérateur-Siège", Status: intPtr(2)},
			{ModificationDate: "2024-02-05T09:00:00Z", Code: "AFAUX01234567893", Status: intPtr(0)},
			{ModificationDate: "2024-07-18T11:30:45Z", Code: "AFAUX01234567894", Label: "Affaire Fibre Ouest Télécom-Boutique Nantes", ValidityEndDate: "2024-06-30T00:00:00Z", Status: intPtr(3)},
		},
		BillingSites: []BillingSite{
			{Code: "AUX00", Description: "COVAGE INFRA"},
			{Code: "AUX01", Description: "Siège Île-de-France"},
			{Code: "AUX02", Description: "Agence Régionale Rhône-Alpes"},
			{Code: "AUX03", Description: "Établissement de Marseille"},
			{Code: "AUX04", Description: "Centre de facturation Nantes Atlantique"},
			{Code: "AUX05", Description: "Société Générale des Télécoms"},
		},
		TerminateReasons:    append([]string(nil), terminateReasons...),
		ChangeReasons:       append([]string(nil), changeReasons...),
		SiteConnectionTypes: append([]string(nil), siteConnectionTypes...),
	}
}

// Generated dataset sizes that Generate does not take as arguments.
const (
	generatedBusinesses   = 100
	generatedBillingSites = 200
)

// generatedDsps are the DSPs Generate cycles through.
var generatedDsps = []string{"OXO", "Covage", "Altitude", "Axione", "Tutor"}

// Generate returns a deterministic dataset of the given sizes for benchmarks.
// Records are numbered from 1. Client k (1-based) is "C%04d"; project i has
// code "P%05d", belongs to client i%clients+1 and is inactive when i%10 == 0;
// door i has reference "CN%06d", belongs to client i%clients+1, offers BPEA
// when i is odd (BPE otherwise) and is inactive when i%20 == 0. It also holds
// 100 businesses, 200 billing sites "BS0001".."BS0200" and the documented
// reason lists. A clients value below 1 is taken as 1.
func Generate(projects, ennis, clients int) *Dataset {
	clients = max(clients, 1)
	client := func(i int) string { return fmt.Sprintf("C%04d", i%clients+1) }
	base := time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)
	const day = "2006-01-02"

	ds := &Dataset{
		Projects:            make([]Project, 0, max(projects, 0)),
		Ennis:               make([]Enni, 0, max(ennis, 0)),
		Businesses:          make([]Business, 0, generatedBusinesses),
		BillingSites:        make([]BillingSite, 0, generatedBillingSites),
		TerminateReasons:    append([]string(nil), terminateReasons...),
		ChangeReasons:       append([]string(nil), changeReasons...),
		SiteConnectionTypes: append([]string(nil), siteConnectionTypes...),
	}
	for i := 1; i <= projects; i++ {
		start := base.AddDate(0, 0, i%1000)
		ds.Projects = append(ds.Projects, Project{
			Code:       fmt.Sprintf("P%05d", i),
			Active:     i%10 != 0,
			StartDate:  start.Format(day),
			EndDate:    start.AddDate(3, 0, 0).Format(day),
			ClientCode: client(i),
		})
	}
	for i := 1; i <= ennis; i++ {
		offer, mode := "BPE", "Régional"
		if i%2 == 1 {
			offer = "BPEA"
		}
		if i%3 == 0 {
			mode = "National"
		}
		c := client(i)
		ds.Ennis = append(ds.Ennis, Enni{
			Code:         fmt.Sprint(i),
			Name:         "Client " + c,
			ShortName:    c,
			Reference:    fmt.Sprintf("CN%06d", i),
			Label:        fmt.Sprintf("Porte de collecte n°%d", i),
			Offer:        offer,
			Dsp:          generatedDsps[i%len(generatedDsps)],
			DeliveryMode: mode,
			Active:       i%20 != 0,
		})
	}
	for i := 1; i <= generatedBusinesses; i++ {
		b := Business{
			Code:             fmt.Sprintf("AFGEN%011d", i),
			Label:            fmt.Sprintf("Affaire n°%d", i),
			ModificationDate: base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
		}
		if i%3 == 0 {
			b.ValidityEndDate = base.AddDate(5, 0, i).Format(time.RFC3339)
		}
		if i%2 == 0 {
			b.Status = intPtr(i % 4)
		}
		ds.Businesses = append(ds.Businesses, b)
	}
	for i := 1; i <= generatedBillingSites; i++ {
		ds.BillingSites = append(ds.BillingSites, BillingSite{
			Code:        fmt.Sprintf("BS%04d", i),
			Description: fmt.Sprintf("Site de facturation n°%d", i),
		})
	}
	return ds
}

package covage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

func TestNormalizeLabel(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Cessation d'activité", "cessation d'activite"},
		{"CESSATION D’ACTIVITÉ", "cessation d'activite"},
		{"Cessation d‘activite", "cessation d'activite"},
		{"Cessation d`activité", "cessation d'activite"},
		{"Cessation d´activité", "cessation d'activite"},
		{"  Cessation \t d'activité\n", "cessation d'activite"},
		{"Cessation\u00a0d'activité", "cessation d'activite"},
		{"Cessation d'activite\u0301", "cessation d'activite"},      // decomposed accent
		{"Cessation d'activit\u0065\u0301", "cessation d'activite"}, // e + combining acute
		{"Zone d’activité  ZA", "zone d'activite za"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, normalizeLabel(tt.in))
		})
	}
}

func TestLabelTables(t *testing.T) {
	// Every code is reachable and no two labels collide once normalised.
	require.Len(t, terminateReasonCodes, len(domain.TerminateReasonCodes))
	require.Len(t, changeReasonCodes, len(domain.ChangeReasonCodes))
	require.Len(t, siteConnectionCodes, len(domain.SiteConnectionTypeCodes))
	require.ElementsMatch(t, domain.TerminateReasonCodes, values(terminateReasonCodes))
	require.ElementsMatch(t, domain.ChangeReasonCodes, values(changeReasonCodes))
	require.ElementsMatch(t, domain.SiteConnectionTypeCodes, values(siteConnectionCodes))
}

func values[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestReasonLabelVariants(t *testing.T) {
	body := `{"available_site_connection_types":[
		"STANDARD OU NO-CATEGORISE",
		"Zone d’activité  ZA",
		" aéroport ",
		"Cimetiere",
		"Piscine",
		"Centre de santé ou hôpital"
	]}`
	u := newUpstream(t)
	u.handle("site_connection/", serve(200, []byte(body)))
	var drift driftRecorder
	var logs bytes.Buffer
	c := newClient(t, u, func(c *Config) {
		c.OnDrift = drift.record
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	want := []*domain.SiteConnectionType{
		{Code: ptr(domain.SiteStandard), Label: "STANDARD OU NO-CATEGORISE"},
		{Code: ptr(domain.SiteBusinessPark), Label: "Zone d’activité  ZA"},
		{Code: ptr(domain.SiteAirport), Label: " aéroport "},
		{Code: ptr(domain.SiteCemetery), Label: "Cimetiere"},
		{Code: nil, Label: "Piscine"},
		{Code: ptr(domain.SiteHealthCenter), Label: "Centre de santé ou hôpital"},
	}
	for range 2 {
		got, err := c.SiteConnectionTypes(context.Background())
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, []string{"site_connection=Piscine"}, drift.list(), "reported once across calls")
	require.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`), logs.String())
	require.Contains(t, logs.String(), `"value":"Piscine"`)

	// Another client has its own memory of what it has reported.
	var drift2 driftRecorder
	c2 := newClient(t, u, func(c *Config) { c.OnDrift = drift2.record })
	_, err := c2.SiteConnectionTypes(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"site_connection=Piscine"}, drift2.list())
}

func TestUnknownReasonsPerEndpoint(t *testing.T) {
	u := newUpstream(t)
	u.handle("terminate_reason/", serve(200, []byte(`{"terminate_reasons":["Fermeture", "Cessation d’activité"]}`)))
	u.handle("change_reason/", serve(200, []byte(`{"change_reasons":["Fermeture","UPGRADE (changement de debit)"]}`)))
	var drift driftRecorder
	c := newClient(t, u, func(c *Config) { c.OnDrift = drift.record })

	tr, err := c.TerminateReasons(context.Background())
	require.NoError(t, err)
	require.Equal(t, []*domain.TerminateReason{
		{Label: "Fermeture"},
		{Code: ptr(domain.TerminateBusinessClosure), Label: "Cessation d’activité"},
	}, tr)
	cr, err := c.ChangeReasons(context.Background())
	require.NoError(t, err)
	require.Equal(t, []*domain.ChangeReason{
		{Label: "Fermeture"},
		{Code: ptr(domain.ChangeUpgrade), Label: "UPGRADE (changement de debit)"},
	}, cr)
	require.Equal(t, []string{"terminate_reason=Fermeture", "change_reason=Fermeture"}, drift.list())
}

func TestFieldDrift(t *testing.T) {
	u := newUpstream(t)
	u.handle("project", serve(200, []byte(`[
		{"code":"P1","start_date":"31/12/2099","end_date":"","active":"maybe"},
		{"code":"P2","start_date":"31/12/2099","end_date":"2099-12-31 00:00:00"}
	]`)))
	u.handle("enni/", serve(200, []byte(`[{"reference":"R1","offer":"bpea "},{"reference":"R2","offer":"FTTO"},{"reference":"R3","offer":""}]`)))
	u.handle("business_code", serve(200, []byte(`[
		{"code":"B1","status":"4","modification_date":"2022-01-14 13:57:04","validity_end_date":"yesterday"},
		{"code":"B2","status":"open"},
		{"code":"B3","status":2.0},
		{"code":"B4","status":2.5},
		{"code":"B5","status":" 7 ","modification_date":"2022-01-14T13:57:04"}
	]`)))
	var drift driftRecorder
	c := newClient(t, u, func(c *Config) { c.OnDrift = drift.record })
	ctx := context.Background()

	projects, err := c.Projects(ctx, domain.ProjectFilter{})
	require.NoError(t, err)
	require.Equal(t, []*domain.Project{
		{Code: "P1"},
		{Code: "P2", EndDate: ptr(domain.Date("2099-12-31"))},
	}, projects)

	ennis, err := c.Ennis(ctx, domain.EnniFilter{})
	require.NoError(t, err)
	require.Equal(t, []*domain.Enni{{Reference: "R1", Offer: ptr(domain.OfferBPEA)}, {Reference: "R2"}, {Reference: "R3"}}, ennis)

	businesses, err := c.Businesses(ctx)
	require.NoError(t, err)
	require.Len(t, businesses, 5)
	require.Equal(t, ptr(4), businesses[0].Status)
	require.Equal(t, "2022-01-14T13:57:04Z", businesses[0].ModificationDate.Format("2006-01-02T15:04:05Z07:00"))
	require.Nil(t, businesses[0].ValidityEndDate)
	require.Nil(t, businesses[1].Status)
	require.Equal(t, ptr(2), businesses[2].Status)
	require.Nil(t, businesses[3].Status)
	require.Equal(t, ptr(7), businesses[4].Status)
	require.NotNil(t, businesses[4].ModificationDate)

	require.ElementsMatch(t, []string{
		"date=31/12/2099", // once, though two projects carry it
		"active=maybe",
		"offer=FTTO",
		"datetime=yesterday",
		"status=open",
		"status=2.5",
	}, drift.list())
}

func TestDriftIsBounded(t *testing.T) {
	var drift driftRecorder
	c, err := New(Config{BaseURL: "https://api.covage.com", Logger: quietLogger(), OnDrift: drift.record})
	require.NoError(t, err)
	for i := range maxDriftValues + 50 {
		c.unknown("offer", strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune(i)))
	}
	require.Len(t, drift.list(), maxDriftValues)
	c.unknown("offer", strings.Repeat("é", 500))
	require.Len(t, drift.list(), maxDriftValues)
	require.Equal(t, "abc", truncate("abcdef", 3))
	require.Equal(t, "a", truncate("aé", 2), "a rune is never split")
}

// FuzzNormalizeLabel checks that normalisation is stable: a normalised label
// normalises to itself, so the tables and the lookups always agree.
func FuzzNormalizeLabel(f *testing.F) {
	for _, s := range []string{"Cessation d'activité", "Zone d’activité  ZA", "Ǆ", "ΐ", "\u1ffd", "İ", "ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeLabel(s)
		require.Equal(t, n, normalizeLabel(n))
	})
}

// FuzzDecodeList feeds arbitrary bodies to the decoders, which must fail
// cleanly rather than panic.
func FuzzDecodeList(f *testing.F) {
	addTestdata(f)
	f.Add([]byte(`{"count":-1,"next":null,"results":[null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := New(Config{BaseURL: "https://api.covage.com", Logger: quietLogger()})
		require.NoError(t, err)
		if raw, _, err := decodeList[rawEnni](bytes.NewReader(body), "", nil); err == nil {
			for _, e := range c.ennis(raw) {
				require.NotEmpty(t, strings.TrimSpace(e.Reference))
			}
		}
		if raw, _, err := decodeList[rawBusiness](bytes.NewReader(body), "", nil); err == nil {
			c.businesses(raw)
		}
		if labels, _, err := decodeList[text](bytes.NewReader(body), "terminate_reasons", nil); err == nil {
			for _, r := range mapReasons(c, EndpointTerminateReason, labels, terminateReasonCodes,
				func(code *domain.TerminateReasonCode, label string) domain.TerminateReason {
					return domain.TerminateReason{Code: code, Label: label}
				}) {
				require.NotEmpty(t, r.Label)
			}
		}
		var site rawBillingSite
		_ = decodeObject(bytes.NewReader(body), &site)
	})
}

// addTestdata seeds a fuzz target with the recorded bodies in testdata.
func addTestdata(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
}

// TestLabelMemoIsBounded checks that a Client's memo of normalised labels
// gives normalizeLabel's answers and stops growing at maxNormalized, so an
// upstream sending ever new labels does not grow the gateway's memory.
func TestLabelMemoIsBounded(t *testing.T) {
	var m labelMemo
	for i := range maxNormalized + 100 {
		s := fmt.Sprintf("Déménagement  N°%d", i)
		require.Equal(t, normalizeLabel(s), m.normalize(s))
		require.Equal(t, normalizeLabel(s), m.normalize(s), "remembered")
	}
	kept := 0
	m.m.Range(func(_, _ any) bool { kept++; return true })
	require.Equal(t, maxNormalized, kept)
}

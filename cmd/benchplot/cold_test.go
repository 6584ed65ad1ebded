package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/loadtest"
)

func TestEndpointOf(t *testing.T) {
	for uri, want := range map[string]string{
		"/api/v1/referential/billing_site/BS0001/":       "/api/v1/referential/billing_site/",
		"/api/v1/referential/enni/?active=true&offer=BP": "/api/v1/referential/enni/",
		"/api/v1/referential/project":                    "/api/v1/referential/project/",
	} {
		require.Equal(t, want, endpointOf(uri), uri)
	}
}

// TestPlanOf turns recorded calls, with made-up times, into stages: the
// reason lists started together are one stage of 3; billing sites through
// a pool of 2 are one stage of 2 at once; a list asked for after another
// was answered is a stage of its own.
func TestPlanOf(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	call := func(uri string, from, to int) upstreamCall { return upstreamCall{uri, at(from), at(to)} }
	for _, tc := range []struct {
		name  string
		calls []upstreamCall
		want  loadtest.Plan
	}{
		{"reasons at once", []upstreamCall{
			call("/api/v1/referential/change_reason/", 1, 21),
			call("/api/v1/referential/terminate_reason/", 0, 20),
			call("/api/v1/referential/site_connection/", 1, 22),
		}, loadtest.Plan{Stages: []loadtest.Stage{{Paths: []string{
			"/api/v1/referential/terminate_reason/", "/api/v1/referential/change_reason/", "/api/v1/referential/site_connection/",
		}, Concurrency: 3}}}},
		{"a pool of two", []upstreamCall{
			call("/api/v1/referential/billing_site/A/", 0, 20),
			call("/api/v1/referential/billing_site/B/", 0, 20),
			call("/api/v1/referential/billing_site/C/", 20, 40),
			call("/api/v1/referential/billing_site/D/", 21, 41),
			call("/api/v1/referential/billing_site/E/", 40, 60),
		}, loadtest.Plan{Stages: []loadtest.Stage{{Paths: []string{
			"/api/v1/referential/billing_site/A/", "/api/v1/referential/billing_site/B/", "/api/v1/referential/billing_site/C/",
			"/api/v1/referential/billing_site/D/", "/api/v1/referential/billing_site/E/",
		}, Concurrency: 2}}}},
		{"projects, then their doors", []upstreamCall{
			call("/api/v1/referential/project/", 0, 20),
			call("/api/v1/referential/enni/?code_client=C1", 21, 41),
			call("/api/v1/referential/enni/?code_client=C2", 21, 42),
		}, loadtest.Plan{Stages: []loadtest.Stage{
			{Paths: []string{"/api/v1/referential/project/"}, Concurrency: 1},
			{Paths: []string{"/api/v1/referential/enni/?code_client=C1", "/api/v1/referential/enni/?code_client=C2"}, Concurrency: 2},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, planOf(tc.calls))
		})
	}
}

// TestColdNotes checks that the table says when the servers did not do
// the same work.
func TestColdNotes(t *testing.T) {
	res := func(calls float64, size int) loadtest.Result {
		return loadtest.Result{UpstreamPerRequest: calls, RespBytes: size}
	}
	apollo := res(3, 1438)
	same := coldRow{Floor: res(3, 1437), Core: res(3, 1437), Ours: res(3, 1437), Apollo: &apollo}
	require.Equal(t, "same calls, same answer size", coldNotes(same))

	dedup := res(50, 3010)
	dedup.UpstreamConnsPerSec = 734.8
	row := coldRow{Floor: res(40, 3009), Core: res(40, 3009), Ours: res(40, 3009), Apollo: &dedup}
	require.Equal(t, "Apollo made 10.00 more upstream calls per request; Apollo opened 735 upstream connections/s", coldNotes(row))

	small := res(2, 1000)
	row = coldRow{Floor: res(1, 900), Core: res(2, 2000), Ours: res(2, 2000), Apollo: &small, ApolloDiffers: true}
	require.Equal(t, "floor and ours made different upstream calls; Apollo's answer holds different data; Apollo's answer differs in size by more than 1%; the floor's answer is not the gateway's size", coldNotes(row))

	// The gqlgen core is held to the gateway's calls and data.
	row = coldRow{Floor: res(3, 1437), Core: res(4, 1437), Ours: res(3, 1437), CoreDiffers: true}
	require.Equal(t, "the gqlgen core and ours made different upstream calls; the gqlgen core's answer holds different data", coldNotes(row))
}

func TestDiffer(t *testing.T) {
	d, err := differ([]byte(`{"data":{"a":[1,2]}}`), []byte("{\"data\": {\"a\": [1, 2]}}\n"))
	require.NoError(t, err)
	require.False(t, d, "formatting aside, the same")
	d, err = differ([]byte(`{"data":{"a":[1,2]}}`), []byte(`{"data":{"a":[2,1]}}`))
	require.NoError(t, err)
	require.True(t, d)
	_, err = differ([]byte(`{"data":`), []byte(`{}`))
	require.Error(t, err)
}

// TestMedianRound checks that each server keeps its median round, and
// that an error in any round is kept with it.
func TestMedianRound(t *testing.T) {
	round := func(cpu time.Duration, errors int) loadtest.Result {
		return loadtest.Result{CPUPerRequest: cpu, Errors: errors, Requests: int(cpu)}
	}
	m := medianRound([]loadtest.Result{round(300, 0), round(100, 0), round(200, 1)})
	require.Equal(t, time.Duration(200), m.CPUPerRequest)
	require.Equal(t, 200, m.Requests, "the whole median round, not a mix of rounds")
	require.Equal(t, 1, m.Errors)

	m = medianRound([]loadtest.Result{round(400, 2), round(100, 0), round(300, 0), round(200, 0)})
	require.Equal(t, time.Duration(200), m.CPUPerRequest, "the lower middle of an even count")
	require.Equal(t, 2, m.Errors, "an error in a round that is not the median still counts")

	require.Equal(t, time.Duration(7), medianRound([]loadtest.Result{round(7, 0)}).CPUPerRequest)
}

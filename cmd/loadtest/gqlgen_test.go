package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/demo"
)

// TestGQLGenCoreAnswersFromCovage checks that the gqlgen core serves the
// gateway's schema from the upstream it is given: each reason list holds
// what Covage sent, and a door list written by the fast list writer holds
// every door, as the gateway answers them.
func TestGQLGenCoreAnswersFromCovage(t *testing.T) {
	ds := demo.Generate(20, 60, 5)
	up := httptest.NewServer(demo.Mux(demo.New(ds)))
	defer up.Close()
	env := map[string]string{"COVAGE_API_URL": up.URL, "COVAGE_API_TOKEN": "core-token"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	h, closeIdle, err := gqlgenCore(cfg)
	require.NoError(t, err)
	defer closeIdle()
	core := httptest.NewServer(h)
	defer core.Close()

	var got struct {
		Data struct {
			TerminateReasons []struct{ Label string }
			ChangeReasons    []struct{ Label string }
			Ennis            []struct{ Reference string }
		}
		Errors []any
	}
	body, err := json.Marshal(map[string]string{"query": `{ terminateReasons { label } changeReasons { label } ennis { reference } }`})
	require.NoError(t, err)
	resp, err := http.Post(core.URL+"/query", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Empty(t, got.Errors)

	labels := func(l []struct{ Label string }) []string {
		out := make([]string, 0, len(l))
		for _, x := range l {
			out = append(out, x.Label)
		}
		return out
	}
	require.Equal(t, ds.TerminateReasons, labels(got.Data.TerminateReasons))
	require.Equal(t, ds.ChangeReasons, labels(got.Data.ChangeReasons))
	require.Len(t, got.Data.Ennis, len(ds.Ennis))
	for i, e := range got.Data.Ennis {
		require.Equal(t, ds.Ennis[i].Reference, e.Reference)
	}
}

// TestServeGQLGenRefusesWithoutItsUpstream checks that the core does not
// start, and so is never measured, without the upstream and the static
// token the gateway under test is given.
func TestServeGQLGenRefusesWithoutItsUpstream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t.Setenv("COVAGE_API_URL", "")
	t.Setenv("COVAGE_API_TOKEN", "t")
	require.ErrorContains(t, run(ctx, []string{"-serve-gqlgen", "127.0.0.1:0"}), "COVAGE_API_URL")
	t.Setenv("COVAGE_API_URL", "http://127.0.0.1:1")
	t.Setenv("COVAGE_API_TOKEN", "")
	require.ErrorContains(t, run(ctx, []string{"-serve-gqlgen", "127.0.0.1:0"}), "COVAGE_API_TOKEN")
	t.Setenv("COVAGE_API_TOKEN", "t")
	require.NoError(t, run(ctx, []string{"-serve-gqlgen", "127.0.0.1:0"}))
}

package gateway_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/gateway"
	"github.com/covage/gateway/internal/loaders"
)

// panicky is a test-only upstream that panics where told: a bug in the
// layers below, reached from resolvers, loader goroutines (look-ahead),
// dataloader batches and their timers, and the billing-site workers.
type panicky struct {
	loaders.Upstream
	projects, ennis, reasons bool
	// ennisOfClient panics on the door list of one client only.
	ennisOfClient bool
}

func (p panicky) Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error) {
	if p.projects {
		panic("injected: projects")
	}
	return p.Upstream.Projects(ctx, f)
}

func (p panicky) Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error) {
	if p.ennis || (p.ennisOfClient && f.ShortName != nil) {
		panic("injected: ennis")
	}
	return p.Upstream.Ennis(ctx, f)
}

func (p panicky) TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error) {
	if p.reasons {
		panic("injected: terminate reasons")
	}
	return p.Upstream.TerminateReasons(ctx)
}

func (p panicky) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	if code == "PANIC" {
		panic("injected: billing site")
	}
	return p.Upstream.BillingSite(ctx, code)
}

// TestPanicsBecomeFieldErrors injects a panic at each place request work
// runs, and checks that only the fields that needed it fail, with
// INTERNAL_SERVER_ERROR at their own path, that the stack is logged, and
// that the process goes on (an unrecovered panic in any goroutine ends the
// test binary).
func TestPanicsBecomeFieldErrors(t *testing.T) {
	cases := []struct {
		name  string
		up    panicky
		query string
		paths [][]any // where INTERNAL_SERVER_ERROR must be reported
		data  string  // what must still be answered
	}{
		{"billing-site worker", panicky{}, `{ billingSites(codes: ["AUX00", "PANIC", "AUX01"]) { code } terminateReasons { code } }`,
			[][]any{{"billingSites", float64(1)}}, `{"billingSites":[{"code":"AUX00"},null,{"code":"AUX01"}]}`},
		{"resolver's own list call", panicky{reasons: true}, `{ terminateReasons { code } billingSites(codes: ["AUX00"]) { code } }`,
			[][]any{{"terminateReasons"}}, `{"billingSites":[{"code":"AUX00"}]}`},
		{"look-ahead goroutine", panicky{ennis: true}, `{ projects { code ennis { reference } } }`,
			[][]any{{"projects", float64(0), "ennis"}}, `{"projects":[{"code":"FLASH"}]}`},
		{"dataloader batch", panicky{projects: true}, `{ a: project(code: "FLASH") { code } b: project(code: "FLASH-2") { code } terminateReasons { code } }`,
			[][]any{{"a"}, {"b"}}, `{"terminateReasons":[{"code":"BUSINESS_CLOSURE"}]}`},
		{"a lone client's filtered door list", panicky{ennisOfClient: true}, `{ projects(filter: {code: "FLASH"}) { code ennis { reference } } }`,
			[][]any{{"projects", float64(0), "ennis"}}, `{"projects":[{"code":"FLASH"}]}`},
		{"batch resolver two lists deep, in the batching window", panicky{projects: true}, `{ ennis { reference projects { code } } }`,
			[][]any{{"ennis", float64(0), "projects"}}, `{"ennis":[{"reference":"CN012345"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withGateway(func(o *gateway.Options) { tc.up.Upstream = o.Upstream; o.Upstream = tc.up }))
			r := e.query(t, tc.query, nil)
			require.Equal(t, 200, r.Status, r.Body)
			require.NotEmpty(t, r.Errors, r.Body)
			for _, err := range r.Errors {
				require.Equal(t, "INTERNAL_SERVER_ERROR", err.Extensions["code"], r.Body)
				require.NotContains(t, err.Message, "injected", "the panic stays in the logs")
			}
			for _, p := range tc.paths {
				require.Contains(t, paths(r), p, r.Body)
			}
			requireSubset(t, tc.data, r.Data)
			require.Contains(t, e.log.String(), "injected")
			require.Contains(t, e.log.String(), `"stack":"goroutine`)

			// The gateway goes on serving.
			e.mustQuery(t, `{ siteConnectionTypes { code } }`, nil)
		})
	}
}

func paths(r response) [][]any {
	var out [][]any
	for _, e := range r.Errors {
		out = append(out, e.Path)
	}
	return out
}

// requireSubset checks that every key of want, and of each first list
// element in want, is in got with the same value.
func requireSubset(t *testing.T, want string, got json.RawMessage) {
	t.Helper()
	var w, g map[string]any
	require.NoError(t, json.Unmarshal([]byte(want), &w))
	require.NoError(t, json.Unmarshal(got, &g), string(got))
	for k, wv := range w {
		gv, ok := g[k]
		require.True(t, ok, "%s missing in %s", k, got)
		if wl, ok := wv.([]any); ok && len(wl) == 1 {
			gl, ok := gv.([]any)
			require.True(t, ok && len(gl) > 0, "%s: %s", k, got)
			for wk, wvv := range wl[0].(map[string]any) {
				require.Equal(t, wvv, gl[0].(map[string]any)[wk], "%s[0].%s in %s", k, wk, got)
			}
			continue
		}
		require.Equal(t, wv, gv, "%s in %s", k, got)
	}
}

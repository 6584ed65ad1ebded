package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServeFloorRefusesWithoutItsInputs checks that the floor does not
// start, and so is never measured, without a plan, an answer, or the
// upstream the gateway calls.
func TestServeFloorRefusesWithoutItsInputs(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	answer := filepath.Join(dir, "answer.json")
	require.NoError(t, os.WriteFile(plan, []byte(`{"stages":[{"paths":["/api/v1/referential/terminate_reason/"]}]}`), 0o600))
	require.NoError(t, os.WriteFile(answer, []byte(`{"data":{}}`), 0o600))

	// A cancelled context: a floor that started would stop at once and
	// return nil, instead of serving until the test times out.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	t.Setenv("COVAGE_API_URL", "")
	err := run(ctx, []string{"-serve-floor", "127.0.0.1:0", "-floor-plan", plan, "-floor-answer", answer})
	require.ErrorContains(t, err, "COVAGE_API_URL")

	t.Setenv("COVAGE_API_URL", "http://127.0.0.1:1")
	err = run(ctx, []string{"-serve-floor", "127.0.0.1:0", "-floor-answer", answer})
	require.ErrorContains(t, err, "-floor-plan")
	err = run(ctx, []string{"-serve-floor", "127.0.0.1:0", "-floor-plan", filepath.Join(dir, "none.json"), "-floor-answer", answer})
	require.ErrorIs(t, err, os.ErrNotExist)

	// With everything it needs, it starts (and stops with ctx).
	require.NoError(t, run(ctx, []string{"-serve-floor", "127.0.0.1:0", "-floor-plan", plan, "-floor-answer", answer}))
}

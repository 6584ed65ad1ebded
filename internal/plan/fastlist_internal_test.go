package plan

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// TestFastListStopsWhenTold checks that a list written directly asks the
// stop function installed with WithStop (the response budget) after each
// item and stops writing once it says so, and writes the whole list
// without one.
func TestFastListStopsWhenTold(t *testing.T) {
	enni, ok := objects()["Enni"].(*object[domain.Enni])
	require.True(t, ok)
	p := listPlan[domain.Enni]{obj: enni, fields: []selected[domain.Enni]{{key: `"reference":`, leaf: enni.leaves["reference"]}}}
	list := make([]*domain.Enni, 100)
	for i := range list {
		list[i] = &domain.Enni{Reference: fmt.Sprintf("CN%06d", i)}
	}
	render := func(ctx context.Context) string {
		m, ok := p.prepare(ctx, list, true, nil)
		require.True(t, ok)
		var b bytes.Buffer
		m.MarshalGQL(&b)
		return b.String()
	}
	full := render(context.Background())
	require.Equal(t, 100, bytes.Count([]byte(full), []byte(`"reference"`)))
	require.Equal(t, byte(']'), full[len(full)-1])

	asked := 0
	got := render(WithStop(context.Background(), func(n int) bool { asked++; return n > 200 }))
	require.Positive(t, asked)
	require.Greater(t, len(got), 200)
	require.Less(t, len(got), 260, "the writer went on after the stop: %s", got)
}

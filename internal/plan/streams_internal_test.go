package plan

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

// streamedDoors prepares a list of n doors, each with a reference and a
// label that needs escaping, in ctx.
func streamedDoors(t *testing.T, ctx context.Context, n int) *rendered[domain.Enni] {
	t.Helper()
	enni, ok := objects()["Enni"].(*object[domain.Enni])
	require.True(t, ok)
	p := listPlan[domain.Enni]{obj: enni, fields: []selected[domain.Enni]{
		{key: `"reference":`, leaf: enni.leaves["reference"]},
		{key: `,"label":`, leaf: enni.leaves["label"]},
	}}
	list := make([]*domain.Enni, n)
	for i := range list {
		label := fmt.Sprintf("porte \"%d\"\n\\", i)
		list[i] = &domain.Enni{Reference: fmt.Sprintf("CN%06d", i), Label: &label}
	}
	m, ok := p.prepare(ctx, list, true, nil)
	require.True(t, ok)
	r, ok := m.(*rendered[domain.Enni])
	require.True(t, ok)
	return r
}

// TestStreamedListsReplayAsBuilt checks that lists taken by Streams leave
// one mark each in the buffer and that Replay writes, in their place, the
// bytes the same lists write when built whole: a list several chunks long,
// a short one, and the data around and between them.
func TestStreamedListsReplayAsBuilt(t *testing.T) {
	build := func(s *Streams) []byte {
		ctx := WithStreams(context.Background(), s)
		var b bytes.Buffer
		b.WriteString(`{"a":`)
		streamedDoors(t, ctx, 5000).MarshalGQL(&b)
		b.WriteString(`,"b":`)
		streamedDoors(t, ctx, 3).MarshalGQL(&b)
		b.WriteString(`}`)
		return b.Bytes()
	}
	whole := build(nil)
	require.Greater(t, len(whole), 4*chunkBytes)

	s := &Streams{Min: 1}
	marked := build(s)
	require.Equal(t, 2, s.Len())
	require.Equal(t, `{"a":`+"\x00"+`,"b":`+"\x00"+`}`, string(marked))

	var pieces [][]byte
	var got []byte
	require.True(t, s.Replay(marked, func(p []byte) bool {
		require.LessOrEqual(t, len(p), chunkBytes+256, "a piece is about a chunk")
		pieces = append(pieces, p)
		got = append(got, p...)
		return true
	}))
	require.Equal(t, string(whole), string(got))
	require.Greater(t, len(pieces), 4, "the long list goes in chunks")

	again := []byte{}
	require.True(t, s.Replay(marked, func(p []byte) bool { again = append(again, p...); return true }))
	require.Equal(t, string(whole), string(again), "a second replay writes the same bytes")
}

// TestStreamsTakeOnlyLargeLists checks the size rule: a list is streamed
// when its last size, or the least it can take when that is unknown,
// reaches Min, and never without Streams or with Min 0.
func TestStreamsTakeOnlyLargeLists(t *testing.T) {
	// 100 doors take at least 100 × len(`{"reference":x,"label":x}`) bytes.
	least := int64(2 + 99 + 100*(2+len(`"reference":`)+1+len(`,"label":`)+1))
	for _, tc := range []struct {
		name  string
		s     *Streams
		taken bool
	}{
		{"no streams", nil, false},
		{"streaming off", &Streams{}, false},
		{"at the least size", &Streams{Min: least}, true},
		{"over the least size", &Streams{Min: least + 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := streamedDoors(t, WithStreams(context.Background(), tc.s), 100)
			var b bytes.Buffer
			r.MarshalGQL(&b)
			require.Equal(t, tc.taken, tc.s.Len() == 1)
			require.Equal(t, tc.taken, b.String() == "\x00", b.String())
		})
	}
	t.Run("last size known", func(t *testing.T) {
		var whole bytes.Buffer
		streamedDoors(t, context.Background(), 100).MarshalGQL(&whole)
		s := &Streams{Min: least + 1}
		r := streamedDoors(t, WithStreams(context.Background(), s), 100)
		r.size = new(atomic.Int64)
		r.size.Store(least + 1)
		var b bytes.Buffer
		r.MarshalGQL(&b)
		require.Equal(t, 1, s.Len())
		require.True(t, s.Replay(b.Bytes(), func([]byte) bool { return true }))
		require.Equal(t, int64(whole.Len()), r.size.Load(), "the replay records the list's size")
	})
}

// TestReplayRefusesWhatItCannotPlace checks that Replay stops when emit
// says so, and reports false when the data's marks do not match its lists.
func TestReplayRefusesWhatItCannotPlace(t *testing.T) {
	s := &Streams{Min: 1}
	var b bytes.Buffer
	streamedDoors(t, WithStreams(context.Background(), s), 5000).MarshalGQL(&b)
	calls := 0
	require.False(t, s.Replay(b.Bytes(), func([]byte) bool { calls++; return calls < 3 }))
	require.Equal(t, 3, calls, "no piece after emit refused one")

	ok := func(p []byte) bool { return true }
	require.False(t, s.Replay([]byte("[]"), ok), "no mark for the list")
	require.False(t, s.Replay([]byte("\x00,\x00"), ok), "a mark too many")
	require.True(t, s.Replay([]byte("\x00"), ok))
}

// TestEnumLeavesDoNotAllocate checks that writing an enum leaf, through
// its own MarshalGQL and io.WriteString, allocates nothing: out takes the
// strings as they are.
func TestEnumLeavesDoNotAllocate(t *testing.T) {
	enni, ok := objects()["Enni"].(*object[domain.Enni])
	require.True(t, ok)
	offer := domain.Offer("BPEA")
	door := &domain.Enni{Offer: &offer}
	o := &out{b: make([]byte, 0, 64)}
	allocs := testing.AllocsPerRun(100, func() {
		o.b = o.b[:0]
		enni.leaves["offer"](o, door)
	})
	require.Equal(t, `"BPEA"`, string(o.b))
	require.Zero(t, allocs)
}

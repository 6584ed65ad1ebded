package covage

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStringBlocksKeepWhatTheyReturned keeps strings of many sizes, some
// larger than a block, and checks that each one still reads as it was
// after everything that followed was written, and that the first block is
// no larger than the first string needs (a decode of one record).
func TestStringBlocksKeepWhatTheyReturned(t *testing.T) {
	var bs stringBlocks
	require.Empty(t, bs.keep(""))
	first := bs.keep("abc")
	require.Equal(t, "abc", first)
	require.LessOrEqual(t, bs.b.Cap(), 8, "the first block is the first string's size class")

	var want, got []string
	for i := range 2000 {
		s := strings.Repeat(string(rune('a'+i%26)), i*i%(blockMax+3000))
		want = append(want, s)
		if i%2 == 0 {
			got = append(got, bs.keep(s))
		} else {
			got = append(got, bs.keepBytes([]byte(s)))
		}
	}
	require.Equal(t, "abc", first)
	require.Equal(t, want, got)
}

package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		headroom, live uint64
		want           int
	}{
		{64 * mib, 16 * mib, 400},  // a small heap gets the headroom
		{64 * mib, 64 * mib, 100},  // as GOGC=100 from there on
		{64 * mib, 640 * mib, 100}, // a large heap is never collected more often than by default
		{64 * mib, 100 * mib, 100}, // 64 % would collect more often than the default: no
		{64 * mib, 0, 1600},        // no collection yet: counted as the runtime's 4 MiB minimum
		{64 * mib, 1, 1600},        // nor below it
		{64 * mib, 4 * mib, 1600},
		{48 * mib, 32 * mib, 150}, // rounded down
		{64 * mib, 33 * mib, 193}, // 6400/33
		{64 * mib, 7 * mib, 914},  // 6400/7
		{1 << 40, 4 * mib, maxPercent},
	} {
		require.Equal(t, tt.want, Percent(tt.headroom, tt.live), "headroom %d live %d", tt.headroom, tt.live)
	}
}

// currentPercent reads the GC percentage.
func currentPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestStartTunesAfterEveryCollection checks that the percentage follows
// the live heap after each collection, not once, and that stop restores
// the one found at Start.
func TestStartTunesAfterEveryCollection(t *testing.T) {
	before := currentPercent()
	tuned := make(chan int, 16)
	const headroom = 1 << 40 // larger than any live heap here: the bound
	stop := start(headroom, func(p int) {
		select {
		case tuned <- p:
		default:
		}
	})
	t.Cleanup(stop) // a failure must not leave the tuning running for the next test
	wait := func() int {
		select {
		case p := <-tuned:
			return p
		case <-time.After(time.Minute): // a safety net, not a measurement
			t.Fatal("the GC percentage was not tuned after a collection")
			return 0
		}
	}
	require.Equal(t, maxPercent, wait(), "tuned at Start")
	for range 3 {
		runtime.GC()
		require.Equal(t, maxPercent, wait(), "tuned after the collection")
		require.Equal(t, maxPercent, currentPercent())
	}

	require.NotNil(t, running)
	second := Start(headroom)
	second() // a second Start did nothing, so its stop does nothing
	require.NotNil(t, running, "the first tuning still runs")

	stop()
	require.Equal(t, before, currentPercent(), "stop restores the percentage")
	runtime.GC()
	runtime.GC()
	require.Equal(t, before, currentPercent(), "nothing tunes after stop")
}

func TestZeroHeadroomDoesNothing(t *testing.T) {
	before := currentPercent()
	stop := Start(0)
	t.Cleanup(stop)
	require.Nil(t, running)
	runtime.GC()
	require.Equal(t, before, currentPercent())
	stop()
}

package gcheadroom

import (
	"math"
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

func TestLimit(t *testing.T) {
	const mib = 1 << 20
	const none = math.MaxInt64 // no limit set by the operator
	for _, tt := range []struct {
		percent        int
		live, overhead uint64
		operator, want int64
	}{
		{400, 16 * mib, 8 * mib, none, 88 * mib * 17 / 16},     // the heap the percentage means, plus the rest, plus a sixteenth
		{100, 64 * mib, 0, none, 128 * mib * 17 / 16},          // GOGC=100: twice the live heap
		{1600, 0, 2 * mib, none, 70 * mib * 17 / 16},           // no collection yet: the 4 MiB minimum
		{400, 16 * mib, 8 * mib, 50 * mib, 50 * mib},           // the operator's lower limit is kept
		{400, 16 * mib, 8 * mib, 99 * mib, 88 * mib * 17 / 16}, // a higher one is not reached
		{maxPercent, 1 << 62, 0, none, none},                   // overflow: no limit
	} {
		require.Equal(t, tt.want, Limit(tt.percent, tt.live, tt.overhead, tt.operator), "%+v", tt)
	}
}

// currentLimit reads the soft memory limit.
func currentLimit() int64 { return debug.SetMemoryLimit(-1) }

// TestStartSetsTheLimitAfterEveryCollection checks that each tuning sets a
// memory limit above the live heap and below what an unbounded percentage
// would allow, that an operator's lower limit is kept, and that stop
// restores the limit found at Start.
func TestStartSetsTheLimitAfterEveryCollection(t *testing.T) {
	before := currentLimit()
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	tuned := make(chan int, 16)
	const headroom = 8 << 20
	stop := start(headroom, func(p int) {
		select {
		case tuned <- p:
		default:
		}
	})
	t.Cleanup(stop)
	wait := func() {
		select {
		case <-tuned:
		case <-time.After(time.Minute): // a safety net, not a measurement
			t.Fatal("not tuned after a collection")
		}
	}
	wait()
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
		wait()
		runtime.ReadMemStats(&ms)
		limit := currentLimit()
		require.Less(t, limit, int64(math.MaxInt64), "no limit set")
		// Above the heap left live (HeapAlloc, just after the
		// collection) plus the headroom; below the whole address
		// space the runtime has mapped plus twice that.
		require.Greater(t, limit, int64(ms.HeapAlloc+headroom))
		require.Less(t, limit, int64(3*ms.Sys+headroom))
	}
	stop()
	require.Equal(t, before, currentLimit(), "stop restores the limit")

	// An operator's limit lower than the tuned one is kept, and restored.
	const operator = 1 << 20 // lower than any tuned limit: the live heap alone is larger
	debug.SetMemoryLimit(operator)
	stop = start(headroom, func(p int) {
		select {
		case tuned <- p:
		default:
		}
	})
	t.Cleanup(stop)
	wait()
	runtime.GC()
	wait()
	require.Equal(t, int64(operator), currentLimit())
	stop()
	require.Equal(t, int64(operator), currentLimit())
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

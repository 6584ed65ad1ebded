// Package gcheadroom gives the garbage collector a minimum headroom.
//
// With Go's default GOGC=100 the heap may grow by as much as was live after
// the last collection before the next one starts. A gateway's live heap is
// small (tens of MB) while each request allocates its decoded upstream
// lists and its answer, so with a small live heap the collector runs very
// often, and each cycle costs its fixed share (stacks, globals, the live
// heap) again: about a quarter of the CPU of an executed request (measured
// side by side in BENCHMARKS.md, "Cold path"). Raising GOGC for good would
// multiply the memory of large answers too. Instead, after every
// collection the GC percentage is set so that the heap may grow by at least
// the headroom, and never by less than GOGC=100 allows:
//
//	percent = max(100, 100 × headroom / live heap)
//
// A small live heap gets the headroom (64 MiB by default, GC_HEADROOM_MB);
// a live heap larger than the headroom collects as with GOGC=100. A memory
// limit (GOMEMLIMIT) still applies on top, as always.
package gcheadroom

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// minLive is the least live heap the percentage is computed for: the
// runtime's own minimum heap (4 MiB). Before the first collection the live
// heap reads 0, and an almost empty one would otherwise ask for a
// percentage that lets the heap grow a hundredfold before it is collected
// again (a first version peaked at 434 MB RSS that way).
const minLive = 4 << 20

// maxPercent bounds the percentage whatever the headroom.
const maxPercent = 10_000

// Percent is the GC percentage that gives a live heap of live bytes at
// least headroom bytes of growth, and never less than GOGC=100 does.
func Percent(headroom, live uint64) int {
	p := headroom * 100 / max(live, minLive)
	switch {
	case p < 100:
		return 100
	case p > maxPercent:
		return maxPercent
	}
	return int(p)
}

var (
	mu      sync.Mutex
	running *tuner
)

type tuner struct {
	headroom uint64
	previous int // the percentage before Start, restored by stop
	stopped  bool
	sample   []metrics.Sample
	onTune   func(percent int) // tests: called after each adjustment
}

// Start keeps the headroom until the returned stop is called (once or
// more), which restores the GC percentage found at Start. A headroom of 0 does nothing.
// The tuning is process-wide: a second Start while one runs does nothing
// either.
func Start(headroom uint64) (stop func()) {
	return start(headroom, nil)
}

func start(headroom uint64, onTune func(int)) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	if headroom == 0 || running != nil {
		return func() {}
	}
	t := &tuner{
		headroom: headroom,
		previous: debug.SetGCPercent(100),
		sample:   []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
		onTune:   onTune,
	}
	debug.SetGCPercent(t.previous)
	running = t
	t.tune()
	t.arm()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if t.stopped {
			return
		}
		t.stopped = true
		running = nil
		debug.SetGCPercent(t.previous)
	}
}

// sentinel is garbage as soon as it is made; its cleanup runs after the
// collection that frees it. It holds a pointer and is larger than 16
// bytes, so it is never batched with other objects by the tiny allocator.
type sentinel struct {
	self *sentinel
	_    [16]byte
}

// arm asks to be called back after the next collection. The callback
// arms the next one before it tunes, so that a collection that follows
// the tuning always finds a sentinel to free.
func (t *tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *tuner) {
		mu.Lock()
		defer mu.Unlock()
		if t.stopped {
			return
		}
		t.arm()
		t.tune()
	}, t)
}

// tune sets the percentage from the live heap the last collection left.
// It runs with mu held.
func (t *tuner) tune() {
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	p := Percent(t.headroom, live)
	debug.SetGCPercent(p)
	if t.onTune != nil {
		t.onTune(p)
	}
}

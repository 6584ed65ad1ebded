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
// a live heap larger than the headroom collects as with GOGC=100.
//
// The percentage alone is one collection late: the runtime applies it to
// the heap the next collection leaves live, not to the one it was computed
// for. When that heap is larger (a burst after idle, or requests holding
// large lists that come and go), the heap may grow by the new live heap
// times a percentage meant for a smaller one: 58 MB live under a
// percentage computed for 20 MB let the heap reach 226 MB before the next
// collection, where the headroom meant 122 MB (GODEBUG=gctrace=1, 50,000
// doors, 4 requests in flight, cache off). So each tuning also sets a soft
// memory limit: the heap the percentage meant, plus the runtime's memory
// that is not heap (stacks, metadata, fragmentation), plus a sixteenth
// (see Limit). The limit caps that overshoot (a collection comes early
// instead, and the next tuning moves the limit), and it makes the runtime
// return freed pages to the system down to it. A limit set by the operator (GOMEMLIMIT) is kept when it is
// lower.
package gcheadroom

import (
	"math"
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

// Limit is the soft memory limit for a live heap of live bytes tuned to
// percent: the heap that percentage lets it reach, plus overhead, the
// runtime's memory that is neither heap objects nor free pages, plus a
// sixteenth; never above the operator's limit.
func Limit(percent int, live, overhead uint64, operator int64) int64 {
	live = max(live, minLive)
	f := uint64(100 + percent)
	if live > math.MaxInt64/f {
		return operator
	}
	limit := live*f/100 + overhead
	// The runtime returns freed pages down to 95 % of the limit: without
	// a sixteenth more, a steady small heap sat above that line, and each
	// cycle's pages were returned and faulted back (0.48–0.50 minor page
	// faults a cold reasons request, against 0.26–0.31 without the limit
	// and 0.27–0.28 with the sixteenth).
	limit += limit / 16
	if limit > math.MaxInt64 || int64(limit) > operator {
		return operator
	}
	return int64(limit)
}

type tuner struct {
	headroom uint64
	previous int   // the percentage before Start, restored by stop
	limit    int64 // the memory limit before Start: the operator's, restored by stop
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
		limit:    debug.SetMemoryLimit(-1),
		sample: []metrics.Sample{
			{Name: "/gc/heap/live:bytes"},
			{Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/released:bytes"},
			{Name: "/memory/classes/heap/free:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"},
		},
		onTune: onTune,
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
		debug.SetMemoryLimit(t.limit)
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

// tune sets the percentage and the limit from the heap the last
// collection left. It runs with mu held.
func (t *tuner) tune() {
	metrics.Read(t.sample)
	var v [5]uint64
	for i, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	live, total, released, free, objects := v[0], v[1], v[2], v[3], v[4]
	var overhead uint64
	if used := released + free + objects; total > used {
		overhead = total - used
	}
	p := Percent(t.headroom, live)
	debug.SetGCPercent(p)
	debug.SetMemoryLimit(Limit(p, live, overhead, t.limit))
	if t.onTune != nil {
		t.onTune(p)
	}
}

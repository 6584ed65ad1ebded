package config

import (
	"strconv"
	"strings"
	"time"
)

// Perf holds the profiling switch and the settings that shape demo mode for
// load tests (cmd/loadtest, BENCHMARKS.md).
type Perf struct {
	// Pprof serves net/http/pprof under /debug/pprof/ (PPROF, default
	// false). Profiles reveal internals and cost CPU while taken, so it is
	// off unless asked for.
	Pprof bool
	// DemoSize is the generated demo dataset as projects, doors and clients
	// (DEMO_DATA_SIZE, e.g. "500,2000,50"); all zero serves the sample data.
	DemoSize DemoSize
	// DemoLatency delays every demo upstream answer (DEMO_LATENCY, e.g.
	// 20ms), to see what a real network round trip does to a query.
	DemoLatency time.Duration
	// DemoTLS serves the demo upstream over HTTPS and HTTP/2, with a
	// certificate generated at start that the gateway trusts (DEMO_TLS,
	// default false), as Covage is served in production.
	DemoTLS bool
	// GCHeadroomMB is the least the heap may grow by between collections,
	// in MiB (GC_HEADROOM_MB, default DefaultGCHeadroomMB; 0 leaves Go's
	// GOGC=100). It applies only when GOGC is not set (internal/gcheadroom).
	GCHeadroomMB int
	// StreamMinKB streams a list expected to take at least this many KiB
	// to the client instead of holding the answer whole (STREAM_MIN_KB,
	// default DefaultStreamMinKB; 0 never streams). An answer the response
	// cache could keep is not streamed.
	StreamMinKB int
}

// DefaultStreamMinKB is STREAM_MIN_KB's default: a list of 1 MiB or more
// is streamed. Below that, holding the answer costs little memory, and
// streaming writes the list twice (once to measure it).
const DefaultStreamMinKB = 1024

// DefaultGCHeadroomMB is GC_HEADROOM_MB's default, from a sweep of 0, 16,
// 32 and 64 on the cold-path benchmark (BENCHMARKS.md, "Cold path"): 64
// cut the CPU of an executed request by 25-35 % (filtered doors 1.97 to
// 1.32 ms, projects{ennis} 5.08 to 3.47 ms, a 10,000-door answer 22.9 to
// 17.0 ms) for 40-75 MB more peak RSS, still well under the Apollo peer's.
const DefaultGCHeadroomMB = 64

// DemoSize is the shape of a generated demo dataset.
type DemoSize struct {
	Projects, Ennis, Clients int
}

// Generated reports whether a generated dataset was asked for.
func (d DemoSize) Generated() bool { return d != DemoSize{} }

// maxDemoRecords bounds each DEMO_DATA_SIZE number, so a typo cannot
// exhaust memory at start.
const maxDemoRecords = 10_000_000

func (p *parser) perf(demo bool) Perf {
	f := Perf{
		Pprof:       p.bool("PPROF", false),
		DemoSize:    p.demoSize("DEMO_DATA_SIZE"),
		DemoLatency: p.duration("DEMO_LATENCY", 0),
		DemoTLS:     p.bool("DEMO_TLS", false),

		GCHeadroomMB: p.int("GC_HEADROOM_MB", DefaultGCHeadroomMB, 0, 1<<16),
		StreamMinKB:  p.int("STREAM_MIN_KB", DefaultStreamMinKB, 0, 1<<30),
	}
	if !demo && (f.DemoSize.Generated() || f.DemoLatency > 0 || f.DemoTLS) {
		p.fail("DEMO_DATA_SIZE, DEMO_LATENCY and DEMO_TLS shape the built-in demo upstream: unset them, or unset COVAGE_API_URL for demo mode")
	}
	return f
}

func (p *parser) demoSize(name string) DemoSize {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return DemoSize{}
	}
	parts := strings.Split(v, ",")
	var n [3]int
	ok := len(parts) == 3
	for i := 0; ok && i < 3; i++ {
		var err error
		n[i], err = strconv.Atoi(strings.TrimSpace(parts[i]))
		ok = err == nil && n[i] >= 0 && n[i] <= maxDemoRecords
	}
	if !ok || n[2] < 1 {
		p.fail("%s=%q: want projects,ennis,clients as three whole numbers, e.g. 500,2000,50 (at least 1 client)", name, v)
		return DemoSize{}
	}
	return DemoSize{Projects: n[0], Ennis: n[1], Clients: n[2]}
}

package gateway_test

import (
	"testing"
	"time"

	"github.com/covage/gateway/internal/demo"
)

// BenchmarkBatchWait measures what the loaders' batching window costs one
// nesting level: the same door fetched through the keyed loader (which waits
// LOADER_WAIT for more keys) and through the plain filtered list (which does
// not). The difference in ns/op is the wait's cost per level.
func BenchmarkBatchWait(b *testing.B) {
	queries := []struct{ name, query string }{
		{"direct list", `{ ennis(filter: {reference: "CN012345"}) { reference } }`},
		{"keyed loader", `{ enni(reference: "CN012345") { reference } }`},
	}
	for _, wait := range []time.Duration{0, 100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond} {
		e := newEnv(b, withWait(wait))
		for _, q := range queries {
			b.Run("wait="+wait.String()+"/"+q.name, func(b *testing.B) {
				for b.Loop() {
					if r := e.query(b, q.query, nil); r.Errors != nil {
						b.Fatal(r.Body)
					}
				}
			})
		}
	}
}

// BenchmarkRoundTrips measures look-ahead with a 20 ms upstream: a nested
// relation whose list look-ahead starts alongside the root costs one round
// trip (~20 ms), where one that waits for its parent costs two (~40 ms).
func BenchmarkRoundTrips(b *testing.B) {
	e := newEnv(b, withDemo(demo.WithLatency(20*time.Millisecond)))
	queries := []struct{ name, query string }{
		{"root only", `{ projects { code } }`},
		{"nested with look-ahead", `{ projects { code ennis { reference } } }`},
		{"nested through a lookup", `{ project(code: "FLASH") { code ennis { reference } } }`},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if r := e.query(b, q.query, nil); r.Errors != nil {
					b.Fatal(r.Body)
				}
			}
		})
	}
}

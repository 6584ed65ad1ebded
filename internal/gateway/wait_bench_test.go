package gateway_test

import (
	"testing"
	"time"

	"github.com/covage/gateway/internal/demo"
)

// BenchmarkBatchWait measures what the loaders' batching window costs one
// nesting level: two doors fetched through the keyed loader (which waits
// LOADER_WAIT for more keys, then makes one list call) against the same
// list call made directly; and one door through the keyed loader, which
// skips the window because the operation has no other key for it, against
// the same filtered call made directly. The differences in ns/op are the
// window's cost per level, with and without it.
func BenchmarkBatchWait(b *testing.B) {
	queries := []struct{ name, query string }{
		{"one key/direct list", `{ ennis(filter: {reference: "CN012345"}) { reference } }`},
		{"one key/keyed loader", `{ enni(reference: "CN012345") { reference } }`},
		{"two keys/direct list", `{ ennis { reference } }`},
		{"two keys/keyed loader", `{ a: enni(reference: "CN012345") { reference } b: enni(reference: "CN012346") { reference } }`},
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

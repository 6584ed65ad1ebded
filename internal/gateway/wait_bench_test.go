package gateway_test

import (
	"testing"
	"time"

	"github.com/covage/gateway/internal/demo"
)

// BenchmarkBatchWait measures what the loaders' batching window costs one
// nesting level, against the same upstream calls made without a loader:
//   - one key: a lookup whose loader sees no other key;
//   - two keys: two aliased lookups, which the operation shows are all the
//     keys (the batch leaves when both are in);
//   - keys under lists: two filtered project lists with their doors, where
//     look-ahead does not apply: two batch-resolver calls, which the
//     operation announces, make one batch when the second arrives (the
//     doors come one level after the projects, which the comparison query
//     fetches alongside them: about one more local round trip);
//   - a relation under an empty list: one of the two announced calls never
//     comes, so the batch waits out the window, as a plain dataloader does.
func BenchmarkBatchWait(b *testing.B) {
	queries := []struct{ name, query string }{
		{"one key/direct list", `{ ennis(filter: {reference: "CN012345"}) { reference } }`},
		{"one key/keyed loader", `{ enni(reference: "CN012345") { reference } }`},
		{"two keys/direct list", `{ ennis { reference } }`},
		{"two keys/keyed loader", `{ a: enni(reference: "CN012345") { reference } b: enni(reference: "CN012346") { reference } }`},
		{"keys under lists/direct lists", `{ a: projects(filter: {code: "FLASH"}) { code } b: projects(filter: {code: "FLASH-2"}) { code } ennis(filter: {shortName: "DC999"}) { reference } }`},
		{"keys under lists/relation loader", `{ a: projects(filter: {code: "FLASH"}) { code ennis { reference } } b: projects(filter: {code: "FLASH-2"}) { code ennis { reference } } }`},
		{"empty list/direct lists", `{ a: projects(filter: {code: "FLASH"}) { code } b: projects(filter: {code: "NOPE"}) { code } ennis(filter: {shortName: "DC999"}) { reference } }`},
		{"empty list/relation loader", `{ a: projects(filter: {code: "FLASH"}) { code ennis { reference } } b: projects(filter: {code: "NOPE"}) { code ennis { reference } } }`},
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

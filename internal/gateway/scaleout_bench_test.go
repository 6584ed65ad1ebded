package gateway_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkScaleOutReplicas puts the same load on 1, 2 and 3 replicas, with
// and without Redis: each operation is 30 concurrent identical requests for
// a list no replica has (a new filter each time), spread over the replicas,
// against a 20 ms upstream. upstream-calls/op is what Covage sees per
// operation; with Redis it stays 1 whatever the number of replicas.
func BenchmarkScaleOutReplicas(b *testing.B) {
	const concurrent = 30
	for _, redisOn := range []bool{true, false} {
		for n := 1; n <= 3; n++ {
			b.Run(fmt.Sprintf("redis=%v/replicas=%d", redisOn, n), func(b *testing.B) {
				f := newFleet(b, n, fleetConfig{latency: 20 * time.Millisecond, noRedis: !redisOn})
				i := 0
				for b.Loop() {
					i++
					q := fmt.Sprintf(`{ ennis(filter: {shortName: "cold-%d-%d"}) { reference } }`, i, time.Now().UnixNano())
					var wg sync.WaitGroup
					for k := range concurrent {
						wg.Go(func() {
							out, err := f.replicas[k%n].post(context.Background(), map[string]any{"query": q}, "")
							if err == nil {
								err = ok(out)
							}
							if err != nil {
								b.Error(err)
							}
						})
					}
					wg.Wait()
				}
				b.ReportMetric(float64(f.calls())/float64(i), "upstream-calls/op")
			})
		}
	}
}

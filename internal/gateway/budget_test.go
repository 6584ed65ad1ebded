package gateway_test

import (
	"encoding/json"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

const (
	cyclicQuery   = `{ ennis { projects { ennis { projects { code } } } } }`
	benchmarkForm = `{ projects { code ennis { reference } } }`
)

// TestResponseBudget checks that an answer past MAX_RESPONSE_BYTES is one
// RESPONSE_TOO_LARGE error with no data, whether its lists are written by
// the fast path, by gqlgen, or both, and that the answer at the limit
// passes.
func TestResponseBudget(t *testing.T) {
	queries := map[string]string{
		"fast path":            `{ ennis { reference label name shortName offer dsp deliveryMode active } }`,
		"gqlgen":               `{ ennis { reference label projects { code active startDate } } }`,
		"fast path inside one": `{ projects { code ennis { reference label name } } }`,
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			full := newEnv(t).mustQuery(t, q, nil)
			size := len(full)

			e := newEnv(t, withSecurity(gateway.Security{Limits: gateway.Limits{MaxResponseBytes: size}}))
			require.JSONEq(t, string(full), string(e.mustQuery(t, q, nil)), "an answer of exactly the limit passes")

			e = newEnv(t, withSecurity(gateway.Security{Limits: gateway.Limits{MaxResponseBytes: size - 1}}))
			r := e.query(t, q, nil)
			require.Equal(t, 200, r.Status)
			require.Len(t, r.Errors, 1, r.Body)
			require.Equal(t, "RESPONSE_TOO_LARGE", r.Errors[0].Extensions["code"])
			require.Contains(t, r.Errors[0].Message, "response limit of")
			require.Equal(t, "null", string(orNull(r.Data)), "no data")
		})
	}
}

func orNull(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("null")
	}
	return d
}

// TestCyclicQueryBounded runs the cyclic query on the benchmark data (500
// projects, 2,000 doors, 50 clients: about 8 million objects) with the
// default limits. With nothing cached the cost estimate cannot know the
// sizes, and the response budget stops the answer while it is built, early
// (it is measured by the memory allocated, not by time); once
// the shared cache holds the lists, the cost limit refuses it before any
// upstream call. The legitimate form query on the same data passes both
// ways.
func TestCyclicQueryBounded(t *testing.T) {
	data := demo.Generate(500, 2000, 50)
	// A loaded machine under -race can take more than the harness's 2 s
	// upstream timeout to serve and decode 2,000 doors; the test is about
	// the answer's size, not Covage's speed.
	t.Run("no shared cache", func(t *testing.T) {
		e := newEnv(t, withData(data), withTimeout(time.Minute))
		e.mustQuery(t, `{ terminateReasons { code } }`, nil) // warm the connections
		// The project list arrives after the door list, so the root
		// field's projection cannot know the relations yet: the answer is
		// stopped by what the first items of the next level show.
		e.fault(upProjects, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
			e.demo.ServeHTTP(w, r)
		})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := queryWithin(t, e, cyclicQuery, 2*time.Minute)
		runtime.ReadMemStats(&after)
		require.Len(t, r.Errors, 1, "%.300s", r.Body)
		require.Equal(t, "RESPONSE_TOO_LARGE", r.Errors[0].Extensions["code"])
		// The budget projects the answer from the lists the request has
		// fetched and extrapolates it from the first items of a list: about
		// 1 MB is allocated (the demo upstream in this process included),
		// against 45 MB when each depth's projection is only summed and
		// about 200 MB when only the bytes already built are counted.
		t.Logf("allocated %d MB", (after.TotalAlloc-before.TotalAlloc)>>20)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "allocated while the answer was stopped")
		require.Equal(t, "null", string(orNull(r.Data)))
		e.mustQuery(t, benchmarkForm, nil)
	})
	t.Run("shared cache", func(t *testing.T) {
		e := newEnv(t, withData(data), withCache(cache.Config{DefaultTTL: time.Hour}), withTimeout(time.Minute))
		r := queryWithin(t, e, cyclicQuery, 2*time.Minute)
		require.Len(t, r.Errors, 1, "%.300s", r.Body)
		require.Equal(t, "RESPONSE_TOO_LARGE", r.Errors[0].Extensions["code"], "cold: the sizes are not known yet")
		e.upstream()

		r = e.query(t, cyclicQuery, nil)
		require.Len(t, r.Errors, 1, "%.300s", r.Body)
		require.Equal(t, gateway.CodeCostLimit, r.Errors[0].Extensions["code"], "warm: refused before execution")
		require.Empty(t, e.upstream())

		e.mustQuery(t, benchmarkForm, nil)
		e.mustQuery(t, benchmarkForm, nil)
	})
}

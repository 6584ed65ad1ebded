package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/cache"
)

// load sends the same few queries from several clients to every replica in
// turn until stop is closed (or a cap is reached), and returns every error,
// the slowest answer and when each answer arrived. The queries' TTL is short, so that requests keep
// going through Redis and Covage rather than the in-process cache alone.
func (f *fleet) load(stop <-chan struct{}) (errs []error, slowest time.Duration, answered []time.Time) {
	queries := []string{ennisQuery, `{ projects { code } }`, `{ terminateReasons { label } }`, `{ ennis(filter: {active: true}) { reference } }`}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range 6 {
		wg.Go(func() {
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := f.replicas[(c+i)%len(f.replicas)]
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				start := time.Now()
				out, err := r.post(ctx, map[string]any{"query": queries[(c+i)%len(queries)]}, "")
				took := time.Since(start)
				cancel()
				if err == nil {
					err = ok(out)
				}
				mu.Lock()
				answered = append(answered, time.Now())
				slowest = max(slowest, took)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs, slowest, answered
}

// readyz returns the replica's /readyz HTTP status, its report's status
// and its redis check.
func (r *replica) readyz(t *testing.T) (code int, status, redis string) {
	t.Helper()
	resp, err := http.Get(r.url + "/readyz")
	require.NoError(t, err)
	var rep struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	body := readAll(t, resp)
	require.NoError(t, json.Unmarshal([]byte(body), &rep), body)
	return resp.StatusCode, rep.Status, rep.Checks["redis"]
}

// logCount counts the replica's log lines with msg.
func (r *replica) logCount(msg string) int {
	return strings.Count(r.log.String(), `"msg":"`+msg)
}

const (
	msgDown = "redis unavailable"
	msgUp   = "redis available again"
)

// TestScaleOutRedisFaults is item 6: Redis killed, restarted, flushed or
// frozen under concurrent load on three replicas; every request is
// answered with data, none waits on Redis longer than its timeout allows,
// each replica logs each change of state once, /readyz stays 200 with
// redis "degraded", and the operations are counted by result.
func TestScaleOutRedisFaults(t *testing.T) {
	// The production timeout: these tests prove the bound, not the counts.
	const timeout = 100 * time.Millisecond
	tests := []struct {
		name string
		// fault breaks Redis and returns how to mend it, or nil.
		fault    func(f *fleet) func()
		outage   bool // the replicas see Redis down
		recovers bool // and back up
	}{
		{"killed", func(f *fleet) func() { f.redis.Kill(); return nil }, true, false},
		{"killed and restarted", func(f *fleet) func() { f.redis.Kill(); return f.redis.Restart }, true, true},
		{"flushed", func(f *fleet) func() {
			f.redis.Do("FLUSHALL")
			f.redis.Do("SCRIPT", "FLUSH")
			return nil
		}, false, false},
		// SIGSTOP: connections stay open and nothing answers, the worst
		// kind of slow. The pause lasts far longer than any answer may.
		{"frozen", func(f *fleet) func() { f.redis.Pause(); return f.redis.Resume }, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, 3, fleetConfig{ttl: 20 * time.Millisecond, latency: time.Millisecond, redisTimeout: timeout})
			stop := make(chan struct{})
			type result struct {
				errs     []error
				slowest  time.Duration
				answered []time.Time
			}
			done := make(chan result)
			go func() {
				errs, slowest, answered := f.load(stop)
				done <- result{errs, slowest, answered}
			}()
			time.Sleep(200 * time.Millisecond) // load running with Redis up
			brokeAt := time.Now()
			mend := tc.fault(f)
			if tc.outage {
				for _, r := range f.replicas {
					waitFor(t, "the replica to see Redis down", func() bool { return !r.redis.Up() })
					code, status, check := r.readyz(t)
					require.Equal(t, http.StatusOK, code, "Redis down never makes the gateway unready")
					require.Equal(t, "degraded", status)
					require.NotEqual(t, "ok", check)
				}
			}
			time.Sleep(1500 * time.Millisecond) // load running with Redis broken
			mendAt := time.Now()
			if mend != nil {
				mend()
				for _, r := range f.replicas {
					waitFor(t, "the replica to see Redis up", r.redis.Up)
				}
				time.Sleep(200 * time.Millisecond) // load running with Redis back
			}
			close(stop)
			res := <-done
			require.Empty(t, res.errs, "every request answered with data")
			// Requests kept being answered while Redis was broken, once
			// the operations in flight had timed out and the leases taken
			// just before had expired: none waited for Redis to come back.
			// (A check on answers, not on a duration, so that a loaded
			// machine cannot fail it.)
			during := 0
			for _, at := range res.answered {
				if at.After(brokeAt.Add(cache.DefaultLeaseTTL+timeout)) && at.Before(mendAt) {
					during++
				}
			}
			require.Greater(t, during, 10, "answers while Redis was broken")
			t.Logf("%d requests, %d while Redis was broken, slowest %s, %d upstream calls",
				len(res.answered), during, res.slowest.Round(time.Millisecond), f.calls())

			for i, r := range f.replicas {
				// One line per change of state, not per request: the lines
				// alternate, so there is one more warning than recovery
				// exactly while Redis is down. (On a loaded machine a
				// healthy Redis can miss the 100 ms bound too, which is a
				// real outage of its own, with its own pair of lines.)
				if tc.outage && !tc.recovers {
					require.False(t, r.redis.Up())
				} else {
					waitFor(t, "the replica to see Redis up", r.redis.Up)
				}
				downs, ups := r.logCount(msgDown), r.logCount(msgUp)
				if r.redis.Up() {
					require.Equal(t, downs, ups, "replica %d: a recovery line for each warning", i)
				} else {
					require.Equal(t, downs, ups+1, "replica %d: one warning more than recoveries while down", i)
				}
				if tc.outage {
					require.GreaterOrEqual(t, downs, 1, "replica %d: the outage was logged", i)
					require.Contains(t, r.metric(t, "gateway_redis_operations_total"), `result="skipped"`)
				}
				require.Less(t, downs, 5, "replica %d: not a line per request", i)
				if tc.recovers {
					// The check pings Redis under the same 100 ms bound, which
					// a loaded machine can miss (a short outage of its own):
					// the report must come back to ok, not be ok at once.
					waitFor(t, "/readyz to report Redis ok", func() bool {
						_, _, check := r.readyz(t)
						return check == "ok"
					})
				}
			}
			if tc.recovers || !tc.outage {
				// The shared layer works again: a new value reaches Redis.
				q := fmt.Sprintf(`{ ennis(filter: {reference: "%s"}) { reference } }`, strings.ToLower(tc.name[:3]))
				require.NoError(t, ok(f.replicas[0].ask(t, q, "")))
				rc := f.client(t)
				waitFor(t, "the value to reach Redis", func() bool {
					keys, err := rc.Keys(context.Background(), "covage:cache:*reference=*").Result()
					return err == nil && len(keys) > 0
				})
			}
		})
	}
}

// TestScaleOutRedisDownAtStart: replicas start while Redis is down, serve
// from memory and Covage, and use Redis once it appears.
func TestScaleOutRedisDownAtStart(t *testing.T) {
	f := newFleet(t, 0, fleetConfig{})
	f.redis.Kill()
	a, b := f.add(t), f.add(t)
	for _, r := range []*replica{a, b} {
		require.False(t, r.redis.Up())
		require.NoError(t, ok(r.ask(t, ennisQuery, "")))
		code, status, check := r.readyz(t)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "degraded", status)
		require.True(t, strings.HasPrefix(check, "redis unreachable"), check)
		require.Equal(t, 1, r.logCount(msgDown))
	}
	require.EqualValues(t, 2, f.calls(), "no Redis: each replica asks Covage")

	f.redis.Restart()
	waitFor(t, "the replicas to connect", func() bool { return a.redis.Up() && b.redis.Up() })
	require.NoError(t, ok(a.ask(t, `{ projects { code } }`, "")))
	require.NoError(t, ok(b.ask(t, `{ projects { code } }`, "")))
	require.EqualValues(t, 3, f.calls(), "with Redis, b reads what a fetched")
}

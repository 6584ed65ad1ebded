package loaders

import (
	"context"
	"sync"
	"time"

	"github.com/covage/gateway/internal/cache"
)

// memo runs each distinct upstream list call at most once per request and
// shares its result with every caller, including callers that arrive while
// the call is still in flight. It is the per-request half of deduplication:
// the same list asked twice in one operation (aliases, fragments, nested
// relations, look-ahead) reaches Covage once.
type memo struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	val  any
	err  error

	// stale lists the stale answers the call was made from. They are
	// reported by each caller, under its own GraphQL field, rather than
	// once under the field of whoever ran the call: two aliases of one
	// list, or a door list started by look-ahead under projects and read
	// by projects { ennis }, are each stale at their own path.
	mu    sync.Mutex
	stale []staleNote
}

type staleNote struct {
	endpoint string
	age      time.Duration
}

// started reports whether the call for key has begun (done or in flight).
func (m *memo) started(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.calls[key]
	return ok
}

// peek returns the result of the call for key when it is done and
// succeeded, without waiting.
func (m *memo) peek(key string) (any, bool) {
	m.mu.Lock()
	c, ok := m.calls[key]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	select {
	case <-c.done:
		return c.val, c.err == nil
	default:
		return nil, false
	}
}

// begin returns the call for key, and whether this caller must run it.
func (m *memo) begin(key string) (*call, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.calls[key]; ok {
		return c, false
	}
	if m.calls == nil {
		m.calls = make(map[string]*call)
	}
	c := &call{done: make(chan struct{})}
	m.calls[key] = c
	return c, true
}

// remember runs fn once for key and returns its result to every caller,
// reporting the stale answers it was made from to each caller's context. A
// caller whose context ends stops waiting; the call itself goes on for the
// others.
func remember[T any](ctx context.Context, m *memo, key string, fn func(context.Context) (T, error)) (T, error) {
	c, owner := m.begin(key)
	if owner {
		c.run(ctx, func(ctx context.Context) (any, error) { return fn(ctx) })
	} else {
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	c.reportStale(ctx)
	if c.err != nil {
		var zero T
		return zero, c.err
	}
	return c.val.(T), nil
}

// prefetch starts the call for key in the background unless it has begun.
// The call is registered before prefetch returns, so a loader that checks
// started right after sees it.
func prefetch[T any](ctx context.Context, m *memo, key string, fn func(context.Context) (T, error)) {
	if c, owner := m.begin(key); owner {
		go c.run(ctx, func(ctx context.Context) (any, error) { return fn(ctx) })
	}
}

// run fills the call from fn and releases its waiters. A panic in fn
// becomes the call's error (a *PanicError, with its stack) for the owner
// and every waiter alike: the call may run in a goroutine of its own
// (prefetch), where a panic would end the process.
func (c *call) run(ctx context.Context, fn func(context.Context) (any, error)) {
	defer close(c.done)
	defer func() {
		if err := recovered(recover()); err != nil {
			c.val, c.err = nil, err
		}
	}()
	c.val, c.err = fn(cache.WithStaleReporter(ctx, c.noteStale))
}

// noteStale is the call's stale reporter while it runs.
func (c *call) noteStale(_ context.Context, endpoint string, age time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stale = append(c.stale, staleNote{endpoint, age})
}

// reportStale reports the call's stale answers to ctx's reporter, once
// the call is done.
func (c *call) reportStale(ctx context.Context) {
	c.mu.Lock()
	notes := c.stale
	c.mu.Unlock()
	if len(notes) == 0 {
		return
	}
	if report, ok := cache.StaleReporterFrom(ctx); ok {
		for _, n := range notes {
			report(ctx, n.endpoint, n.age)
		}
	}
}

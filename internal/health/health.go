// Package health answers the orchestrator's questions: /healthz (is the
// process alive) and /readyz (should this replica get traffic now).
//
// Readiness means "this replica can serve": it is 503 only while the
// process is starting or draining. An outage of a dependency (Covage,
// Keycloak, later Redis) does not make it 503, since every replica shares
// it and taking them all out of the load balancer would stop the stale
// answers the shared cache could still give; it shows as "degraded", with
// the reason, in the body.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"
)

// Defaults for Readiness. The timeout keeps /readyz well under a kubelet's
// default probe timeout of one second, even when a dependency hangs.
const (
	DefaultFresh   = time.Minute
	DefaultTimeout = 500 * time.Millisecond
)

// Lifecycle states.
const (
	StateStarting = "starting"
	StateServing  = "serving"
	StateDraining = "draining"
)

// Lifecycle is the process's place between start and exit. Its zero value
// is starting. It is safe for concurrent use.
type Lifecycle struct {
	state atomic.Value // string
}

// Serve marks the process as ready to serve.
func (l *Lifecycle) Serve() { l.state.Store(StateServing) }

// Drain marks the process as shutting down: /readyz turns 503 at once so
// load balancers stop sending new requests.
func (l *Lifecycle) Drain() { l.state.Store(StateDraining) }

// State returns StateStarting, StateServing or StateDraining.
func (l *Lifecycle) State() string {
	if s, ok := l.state.Load().(string); ok {
		return s
	}
	return StateStarting
}

// Check is one dependency check shown in the report.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Readiness answers /readyz: 503 while Lifecycle is starting or draining,
// else 200, "ready" or "degraded" with the dependency checks' results.
type Readiness struct {
	// Lifecycle says whether the process is serving; nil is always serving.
	Lifecycle *Lifecycle
	// Config is the configuration's validation error, if any. main only
	// starts with a valid configuration, so it is there for completeness
	// and for reloadable settings; unlike a dependency, a bad
	// configuration is this replica's own fault and makes it not ready.
	Config func() error
	// Auth obtains a token when OAuth2 is configured (covage.Client.CheckAuth).
	Auth func(ctx context.Context) error
	// LastSuccess is when Covage last answered (telemetry.Upstream.LastSuccess).
	LastSuccess func() time.Time
	// Probe makes one cheap upstream call, used when LastSuccess is older
	// than Fresh.
	Probe func(ctx context.Context) error
	// Dependencies are further checks (a Redis ping, say), reported like
	// auth and upstream: a failure degrades, never makes it 503.
	Dependencies []Check
	// Fresh is how recent an answer from Covage must be; DefaultFresh when 0.
	Fresh time.Duration
	// Timeout bounds the checks; DefaultTimeout when 0.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Warming, when set, reports that the start-up prefetch is still
	// running: the gateway is not ready yet. It must stop reporting so
	// after a bounded time, whatever Covage does.
	Warming func() bool
}

// Report statuses.
const (
	StatusReady    = "ready"
	StatusDegraded = "degraded"
	StatusNotReady = "not ready"
)

// Report is the body of /readyz.
type Report struct {
	// Status is StatusReady, StatusDegraded or StatusNotReady.
	Status string `json:"status"`
	// State is the lifecycle state: starting, serving or draining.
	State string `json:"state"`
	// Checks maps each check to "ok" or why not.
	Checks map[string]string `json:"checks"`
}

// Check runs the checks.
func (r Readiness) Check(ctx context.Context) Report {
	rep := Report{Status: StatusReady, State: StateServing, Checks: map[string]string{}}
	if r.Lifecycle != nil {
		rep.State = r.Lifecycle.State()
	}
	if rep.State != StateServing {
		// Starting or draining: nothing else matters, and no dependency is
		// bothered.
		rep.Status = StatusNotReady
		return rep
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	fresh := r.Fresh
	if fresh <= 0 {
		fresh = DefaultFresh
	}

	degrade := func(name string, err error) {
		if err != nil {
			if rep.Status == StatusReady {
				rep.Status = StatusDegraded
			}
			rep.Checks[name] = err.Error()
			return
		}
		rep.Checks[name] = "ok"
	}
	rep.Checks["config"] = "ok"
	if r.Config != nil {
		if err := r.Config(); err != nil {
			rep.Status = StatusNotReady
			rep.Checks["config"] = err.Error()
		}
	}
	if r.Auth != nil {
		degrade("auth", r.Auth(ctx))
	}
	if r.Warming != nil && r.Warming() {
		// READY_AFTER_PREFETCH: hold traffic while the start-up prefetch
		// runs; the prefetch bounds itself, so a Covage outage cannot keep
		// the replica out for long.
		rep.Status = StatusNotReady
		rep.Checks["prefetch"] = "fetching Covage's lists"
	}
	if r.LastSuccess != nil && r.Probe != nil {
		if last := r.LastSuccess(); !last.IsZero() && now().Sub(last) < fresh {
			rep.Checks["upstream"] = "ok"
		} else {
			degrade("upstream", r.Probe(ctx))
		}
	}
	for _, c := range r.Dependencies {
		degrade(c.Name, c.Run(ctx))
	}
	return rep
}

// ServeHTTP answers 503 with the report when not ready (starting, draining
// or misconfigured), 200 otherwise, degraded or not.
func (r Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rep := r.Check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rep.Status == StatusNotReady {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

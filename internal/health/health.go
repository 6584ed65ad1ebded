// Package health answers the orchestrator's questions: /healthz (is the
// process alive) and /readyz (can it serve traffic now), the latter with the
// reason when the answer is no.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Defaults for Readiness.
const (
	DefaultFresh   = time.Minute
	DefaultTimeout = 5 * time.Second
)

// Readiness checks, in order, that the configuration is valid, that the
// upstream credentials work, and that Covage answered recently, probing it
// when it has been quiet.
type Readiness struct {
	// Config is the configuration's validation error, if any. main only
	// starts with a valid configuration, so it is there for completeness
	// and for reloadable settings.
	Config func() error
	// Auth obtains a token when OAuth2 is configured (covage.Client.CheckAuth).
	Auth func(ctx context.Context) error
	// LastSuccess is when Covage last answered (telemetry.Upstream.LastSuccess).
	LastSuccess func() time.Time
	// Probe makes one cheap upstream call, used when LastSuccess is older
	// than Fresh.
	Probe func(ctx context.Context) error
	// Fresh is how recent an answer from Covage must be; DefaultFresh when 0.
	Fresh time.Duration
	// Timeout bounds the checks; DefaultTimeout when 0.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Redis checks the shared layer (shared.Redis.Check), when REDIS_URL
	// is set. A failure reports "degraded: …" under "redis" and leaves the
	// gateway ready: without Redis it serves from memory and Covage.
	Redis func(ctx context.Context) error
}

// Report is the body of /readyz.
type Report struct {
	Status string            `json:"status"` // "ready" or "not ready"
	Checks map[string]string `json:"checks"` // check name -> "ok" or why not
}

// Check runs the checks.
func (r Readiness) Check(ctx context.Context) Report {
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

	rep := Report{Status: "ready", Checks: map[string]string{}}
	set := func(name string, err error) {
		if err != nil {
			rep.Status = "not ready"
			rep.Checks[name] = err.Error()
			return
		}
		rep.Checks[name] = "ok"
	}
	if r.Config != nil {
		set("config", r.Config())
	} else {
		set("config", nil)
	}
	if r.Auth != nil {
		set("auth", r.Auth(ctx))
	}
	if r.LastSuccess != nil && r.Probe != nil {
		if last := r.LastSuccess(); !last.IsZero() && now().Sub(last) < fresh {
			rep.Checks["upstream"] = "ok"
		} else {
			set("upstream", r.Probe(ctx))
		}
	}
	if r.Redis != nil {
		rep.Checks["redis"] = degraded(r.Redis(ctx))
	}
	return rep
}

// degraded is the value of a check that cannot make the gateway unready.
func degraded(err error) string {
	if err != nil {
		return "degraded: " + err.Error()
	}
	return "ok"
}

// ServeHTTP answers 200 with the report when ready, 503 when not.
func (r Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rep := r.Check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if rep.Status != "ready" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

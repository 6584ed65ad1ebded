package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// Stage is a set of upstream GETs that one GraphQL request makes without
// waiting for each other's answers (the three reason lists; the billing
// sites, through the gateway's pool of BILLING_SITE_CONCURRENCY workers).
type Stage struct {
	// Paths are the GETs, each a path with its query string, relative to
	// the upstream's base URL.
	Paths []string `json:"paths"`
	// Concurrency is how many of them are in flight at once; 0 is all.
	Concurrency int `json:"concurrency"`
}

// Plan is the upstream work of one GraphQL request: its stages, one after
// another (a project's doors are asked for once the projects are in).
type Plan struct {
	Stages []Stage `json:"stages"`
}

// Calls is the number of GETs the plan makes.
func (p Plan) Calls() int {
	n := 0
	for _, s := range p.Stages {
		n += len(s.Paths)
	}
	return n
}

// ReadPlan reads a Plan written as JSON.
func ReadPlan(path string) (Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("plan %s: %w", path, err)
	}
	if p.Calls() == 0 {
		return Plan{}, fmt.Errorf("plan %s: no upstream GET in it", path)
	}
	return p, nil
}

// Floor is what a gateway costs at the very least: per GraphQL request it
// reads the request body, makes exactly the plan's upstream GETs over
// Client (the gateway's own pool, covage.NewTransport), reads each answer
// to its end without decoding it, and writes Answer, the gateway's answer
// recorded beforehand. Its CPU per request, measured from outside like the
// gateway's, is the floor of issue 16: the same round trips made by a bare
// Go program over the same pool, plus writing the same answer.
type Floor struct {
	// Base is the upstream's base URL, e.g. https://127.0.0.1:29443.
	Base   string
	Plan   Plan
	Client *http.Client
	// Token, when set, is sent as Authorization: Bearer, as the gateway
	// sends its upstream credential.
	Token string
	// Answer and ContentType are written to every request.
	Answer      []byte
	ContentType string
}

// ServeHTTP answers one GraphQL request. An upstream failure is answered
// 502 with a GraphQL error, so the load driver counts it.
func (f *Floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	for _, s := range f.Plan.Stages {
		if err := f.stage(r.Context(), s); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"message": err.Error()}}})
			return
		}
	}
	w.Header().Set("Content-Type", f.ContentType)
	_, _ = w.Write(f.Answer)
}

// stage makes the stage's GETs, s.Concurrency at a time, from as many
// workers, and returns the first failure.
func (f *Floor) stage(ctx context.Context, s Stage) error {
	workers := len(s.Paths)
	if s.Concurrency > 0 {
		workers = min(workers, s.Concurrency)
	}
	errs := make([]error, len(s.Paths))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(s.Paths) {
					return
				}
				errs[j] = f.get(ctx, s.Paths[j])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f *Floor) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if f.Token != "" {
		req.Header.Set("Authorization", "Bearer "+f.Token)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

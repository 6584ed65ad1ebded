// Package loaders builds the per-request data loaders that stand between the
// resolvers and Covage. They batch and deduplicate upstream calls within one
// GraphQL request: every relation costs one list call, however many parents
// ask for it, and the same list is never fetched twice.
//
// Loaders are created per HTTP request by Middleware and read with For. They
// are never shared across requests, so they can never leak one caller's data
// to another.
package loaders

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/covage/gateway/internal/domain"
)

// Upstream is what the loaders need from Covage. *covage.Client implements
// it, and so can a caching layer in front of it.
type Upstream interface {
	Projects(ctx context.Context, f domain.ProjectFilter) ([]*domain.Project, error)
	Ennis(ctx context.Context, f domain.EnniFilter) ([]*domain.Enni, error)
	Businesses(ctx context.Context) ([]*domain.Business, error)
	BillingSite(ctx context.Context, code string) (*domain.BillingSite, error)
	TerminateReasons(ctx context.Context) ([]*domain.TerminateReason, error)
	ChangeReasons(ctx context.Context) ([]*domain.ChangeReason, error)
	SiteConnectionTypes(ctx context.Context) ([]*domain.SiteConnectionType, error)
}

// Config tunes batching.
type Config struct {
	// Wait is how long a keyed loader collects keys before it calls
	// upstream. The default, 500µs, is enough for gqlgen's concurrent field
	// resolvers to join one batch and too short to be seen.
	Wait time.Duration
	// MaxBatch caps the keys in one batch; 0 means no cap.
	MaxBatch int
	// BillingSitePool bounds the concurrent billing-site GETs of one request.
	// Default 8.
	BillingSitePool int
	// IsNotFound reports whether an upstream error means "no such object".
	IsNotFound func(error) bool
	// OnBatch, when set, is called as a keyed loader's batch starts, with
	// the loader's name and its number of keys; the batch runs with the
	// context it returns, and end is called when the batch is done. It is
	// for metrics and tracing spans.
	OnBatch func(ctx context.Context, loader string, keys int) (_ context.Context, end func())
}

// Defaults for Config.
const (
	DefaultWait            = 500 * time.Microsecond
	DefaultBillingSitePool = 8
)

func (c Config) withDefaults() Config {
	if c.Wait <= 0 {
		c.Wait = DefaultWait
	}
	if c.BillingSitePool <= 0 {
		c.BillingSitePool = DefaultBillingSitePool
	}
	if c.IsNotFound == nil {
		c.IsNotFound = func(error) bool { return false }
	}
	return c
}

// Loaders holds one request's loaders.
type Loaders struct {
	up    Upstream
	cfg   Config
	lists memo
	// billingSlots bounds the request's concurrent billing-site GETs; made
	// on first use.
	billingSlots     chan struct{}
	billingSlotsOnce sync.Once
	// billingPool runs the request's billingSites GETs (batch.go).
	billingPool workPool

	projectByCode    lazy[string, *domain.Project]
	enniByReference  lazy[string, *domain.Enni]
	businessByCode   lazy[string, *domain.Business]
	ennisByClient    lazy[clientKey, []*domain.Enni]
	projectsByClient lazy[string, []*domain.Project]
}

// New returns fresh loaders for one request. Each dataloader is built on
// first use: most requests need none or one of them, and building them all
// was a tenth of a small request's allocations.
func New(up Upstream, cfg Config) *Loaders {
	cfg = cfg.withDefaults()
	l := &Loaders{up: up, cfg: cfg}
	l.projectByCode.init(&l.cfg, "project_by_code", l.batchProjectByCode)
	l.enniByReference.init(&l.cfg, "enni_by_reference", l.batchEnniByReference)
	l.businessByCode.init(&l.cfg, "business_by_code", l.batchBusinessByCode)
	l.ennisByClient.init(&l.cfg, "ennis_by_client", l.batchEnnisByClient)
	l.projectsByClient.init(&l.cfg, "projects_by_client", l.batchProjectsByClient)
	return l
}

// lazy is a dataloader built the first time it is asked for.
type lazy[K comparable, V any] struct {
	once   sync.Once
	loader *dataloader.Loader[K, V]
	mu     sync.Mutex
	round  *round[K, V] // see gather
	cfg    *Config
	name   string
	batch  dataloader.BatchFunc[K, V] // without the OnBatch hook: see run
}

func (z *lazy[K, V]) init(cfg *Config, name string, batch dataloader.BatchFunc[K, V]) {
	z.cfg, z.name, z.batch = cfg, name, batch
}

// get returns the dataloader, built on first use. When ctx says how many
// load calls the loader will see in the request (Expect), a batch leaves as
// soon as they have all arrived instead of waiting out the window.
func (z *lazy[K, V]) get(ctx context.Context) *dataloader.Loader[K, V] {
	z.once.Do(func() {
		cfg := *z.cfg
		if n := expected(ctx); n > 1 && (cfg.MaxBatch <= 0 || n < cfg.MaxBatch) {
			cfg.MaxBatch = n
		}
		z.loader = newLoader(cfg, z.run)
	})
	return z.loader
}

// run runs one batch, observed by Config.OnBatch when set. A panic in the
// batch answers every key with a *PanicError: batches run in dataloader
// goroutines and timer callbacks, where a panic would end the process.
func (z *lazy[K, V]) run(ctx context.Context, keys []K) (results []*dataloader.Result[V]) {
	defer func() {
		if err := recovered(recover()); err != nil {
			results = failAll[V](len(keys), err)
		}
	}()
	if hook := z.cfg.OnBatch; hook != nil {
		var end func()
		ctx, end = hook(ctx, z.name, len(keys))
		defer end()
	}
	return z.batch(ctx, keys)
}

// load loads key through the dataloader, or, when ctx is marked Alone,
// runs a batch of that one key at once.
func (z *lazy[K, V]) load(ctx context.Context, key K) (V, error) {
	if alone(ctx) {
		r := z.run(ctx, []K{key})[0]
		return r.Data, r.Error
	}
	return z.get(ctx).Load(ctx, key)()
}

// loadMany loads keys through the dataloader; or, when ctx is marked Alone,
// runs one batch of the distinct keys at once; or, when ctx says how many
// loadMany calls the loader will see (ExpectCalls), runs one batch when
// the last of them arrives. errs is nil when every key loaded.
func (z *lazy[K, V]) loadMany(ctx context.Context, keys []K) (vals []V, errs []error) {
	switch {
	case alone(ctx):
		r := newRound[K, V](1)
		r.add(keys)
		r.results = z.run(ctx, r.keys)
		return r.answer(keys)
	case expectedCalls(ctx) > 1:
		return z.gather(ctx, keys, expectedCalls(ctx))
	}
	return z.get(ctx).LoadMany(ctx, keys)()
}

// round is one batch put together from several loadMany calls.
type round[K comparable, V any] struct {
	want, got int
	keys      []K
	at        map[K]int
	fired     bool
	done      chan struct{}
	results   []*dataloader.Result[V]
}

func newRound[K comparable, V any](want int) *round[K, V] {
	return &round[K, V]{want: want, at: map[K]int{}, done: make(chan struct{})}
}

// add adds keys not in the round yet.
func (r *round[K, V]) add(keys []K) {
	for _, k := range keys {
		if _, ok := r.at[k]; !ok {
			r.at[k] = len(r.keys)
			r.keys = append(r.keys, k)
		}
	}
	r.got++
}

// answer returns the round's results for keys.
func (r *round[K, V]) answer(keys []K) (vals []V, errs []error) {
	vals = make([]V, len(keys))
	for i, k := range keys {
		res := r.results[r.at[k]]
		vals[i] = res.Data
		if res.Error != nil {
			if errs == nil {
				errs = make([]error, len(keys))
			}
			errs[i] = res.Error
		}
	}
	return vals, errs
}

// gather adds keys to the current round, which runs as one batch when the
// want-th call has arrived, or when the batching window ends if some never
// do (a parent list that turned out empty or null): never later than the
// dataloader would have.
func (z *lazy[K, V]) gather(ctx context.Context, keys []K, want int) ([]V, []error) {
	z.mu.Lock()
	r := z.round
	if r == nil || r.fired {
		r = newRound[K, V](want)
		z.round = r
		// The round belongs to the request, whose first caller's context
		// runs it when the window ends.
		time.AfterFunc(z.cfg.Wait, func() { z.fire(ctx, r) })
	}
	r.add(keys)
	last := r.got >= r.want
	z.mu.Unlock()
	if last {
		z.fire(ctx, r)
	}
	select {
	case <-r.done:
		return r.answer(keys)
	case <-ctx.Done():
		errs := make([]error, len(keys))
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return make([]V, len(keys)), errs
	}
}

// fire runs r's batch once.
func (z *lazy[K, V]) fire(ctx context.Context, r *round[K, V]) {
	z.mu.Lock()
	if r.fired {
		z.mu.Unlock()
		return
	}
	r.fired = true
	keys := r.keys
	z.mu.Unlock()
	defer close(r.done)
	r.results = z.run(ctx, keys)
}

type expectKey struct{}

// Alone marks ctx as carrying the only keys its keyed loader will be asked
// for in this request, which the caller knows from the operation (one field
// that uses the loader, and either no list above it or all the parents of
// the one list above it in hand). The load then skips the batching window,
// which could only add latency: about a millisecond per level on an idle
// machine, whatever the configured wait, because Go's timers sleep in whole
// milliseconds when nothing else runs.
func Alone(ctx context.Context) context.Context { return Expect(ctx, 1) }

// Expect marks ctx with the number of load calls, each of one key, that
// its keyed loader will see in this request, which the caller knows from
// the operation (that many fields use the loader, none with a list above
// it). One is Alone; more lets the batch leave as soon as they have all
// arrived. A count too high only means waiting out the window as before.
func Expect(ctx context.Context, calls int) context.Context {
	return context.WithValue(ctx, expectKey{}, calls)
}

func expected(ctx context.Context) int {
	n, _ := ctx.Value(expectKey{}).(int)
	return n
}

type expectCallsKey struct{}

// ExpectCalls marks ctx with the number of calls, each with any number of
// keys, that its keyed loader will see in this request (batch resolvers:
// one call per field whose parents are all in hand). Their keys go out in
// one batch when the last call arrives, or when the window ends.
func ExpectCalls(ctx context.Context, calls int) context.Context {
	return context.WithValue(ctx, expectCallsKey{}, calls)
}

func expectedCalls(ctx context.Context) int {
	n, _ := ctx.Value(expectCallsKey{}).(int)
	return n
}

func alone(ctx context.Context) bool { return expected(ctx) == 1 }

func newLoader[K comparable, V any](cfg Config, fn dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	opts := []dataloader.Option[K, V]{dataloader.WithWait[K, V](cfg.Wait)}
	if cfg.MaxBatch > 0 {
		opts = append(opts, dataloader.WithBatchCapacity[K, V](cfg.MaxBatch))
	}
	return dataloader.NewBatchedLoader(fn, opts...)
}

type ctxKey struct{}

// Middleware gives every request its own loaders over up.
func Middleware(up Upstream, cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, New(up, cfg))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// WithLoaders returns a context carrying l, for callers outside HTTP.
func WithLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the request's loaders, if ctx carries them.
func From(ctx context.Context) (*Loaders, bool) {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	return l, ok
}

// For returns the request's loaders. It panics when Middleware did not run,
// which is a wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no loaders in context; is loaders.Middleware installed?")
	}
	return l
}

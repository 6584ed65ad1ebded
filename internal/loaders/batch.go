package loaders

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/stack"
)

// Every keyed loader follows one rule, so that a relation costs one upstream
// call however many parents ask for it:
//   - when the list that holds every key is already fetched or in flight in
//     this request, read from it (no extra call);
//   - else a batch of one key uses the filtered upstream call;
//   - else the batch costs one list call, grouped locally.

// ProjectByCode returns the project with this code, or nil.
func (l *Loaders) ProjectByCode(ctx context.Context, code string) (*domain.Project, error) {
	return l.projectByCode.load(ctx, code)
}

// EnniByReference returns the door with this reference, or nil.
func (l *Loaders) EnniByReference(ctx context.Context, ref string) (*domain.Enni, error) {
	return l.enniByReference.load(ctx, ref)
}

// BusinessByCode returns the business with this code, or nil.
func (l *Loaders) BusinessByCode(ctx context.Context, code string) (*domain.Business, error) {
	return l.businessByCode.load(ctx, code)
}

// BillingSite returns the billing site with this code, or nil when upstream
// has none. Covage has no multi-get, so a batch could not save a single
// call: each distinct code is one GET, started at once (no batching wait),
// remembered for the rest of the request, and never more than
// BillingSitePool in flight in the request.
func (l *Loaders) BillingSite(ctx context.Context, code string) (*domain.BillingSite, error) {
	return remember(ctx, &l.lists, "billing_site/"+code, func(ctx context.Context) (*domain.BillingSite, error) {
		l.billingSlotsOnce.Do(func() { l.billingSlots = make(chan struct{}, l.cfg.BillingSitePool) })
		select {
		case l.billingSlots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-l.billingSlots }()
		site, err := l.up.BillingSite(ctx, code)
		if err != nil && l.cfg.IsNotFound(err) {
			return nil, nil
		}
		return site, err
	})
}

// BillingSites returns one entry per code, in order (nil where upstream has
// no such site), with one error per code (errs is nil when every code
// loaded), so that a failed code costs only its own entry. Duplicate codes
// cost nothing. The distinct codes are fetched by the request's pool of
// at most BillingSitePool workers, shared by every billingSites field of
// the request: no goroutine per code, nor per field. A panic while
// fetching one code fails that code alone.
func (l *Loaders) BillingSites(ctx context.Context, codes []string) (sites []*domain.BillingSite, errs []error) {
	sites = make([]*domain.BillingSite, len(codes))
	each := make([]error, len(codes))
	first := make(map[string]int, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		if _, dup := first[code]; dup {
			continue
		}
		first[code] = i
		wg.Add(1)
		l.billingPool.submit(l.cfg.BillingSitePool, func() {
			defer wg.Done()
			sites[i], each[i] = l.billingSiteSafe(ctx, code)
		})
	}
	wg.Wait()
	for i, code := range codes {
		j := first[code]
		sites[i] = sites[j]
		if each[j] != nil {
			if errs == nil {
				errs = make([]error, len(codes))
			}
			errs[i] = each[j]
		}
	}
	return sites, errs
}

// workPool runs jobs on at most a given number of goroutines, started as
// jobs arrive and ended as soon as the queue is empty, so it needs no
// closing when the request ends.
type workPool struct {
	mu      sync.Mutex
	queue   []func()
	workers int
}

// submit queues job, and starts a worker if fewer than most are running.
func (p *workPool) submit(most int, job func()) {
	p.mu.Lock()
	p.queue = append(p.queue, job)
	start := p.workers < most
	if start {
		p.workers++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

func (p *workPool) work() {
	// Each job goes as deep as the Covage client and net/http's transport
	// (internal/stack explains why the room is made at once).
	stack.Reserve()
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.workers--
			p.mu.Unlock()
			return
		}
		job := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		job()
	}
}

// billingSiteSafe is BillingSite for a pool worker, where a panic would
// end the process: it becomes the code's error.
func (l *Loaders) billingSiteSafe(ctx context.Context, code string) (site *domain.BillingSite, err error) {
	defer func() {
		if perr := recovered(recover()); perr != nil {
			site, err = nil, perr
		}
	}()
	return l.BillingSite(ctx, code)
}

// EnnisOfClients returns, for each client, the doors whose shortName is
// that client and that match f, with one error per client (errs is nil when
// every client loaded). When the list for f is already fetched or in flight
// (look-ahead started it), the answer comes from a per-request index with
// no batching wait.
func (l *Loaders) EnnisOfClients(ctx context.Context, clients []string, f domain.EnniFilter) (lists [][]*domain.Enni, errs []error) {
	if f.ShortName == nil && l.lists.started(enniListKey(f)) {
		idx, err := l.ennisByShortName(ctx, f)
		return fromIndex(clients, idx, err)
	}
	keys := make([]clientKey, len(clients))
	fk := newEnniFilterKey(f)
	for i, c := range clients {
		keys[i] = clientKey{client: c, filter: fk}
	}
	return l.ennisByClient.loadMany(ctx, keys)
}

// ProjectsOfClients returns, for each client, the projects whose clientCode
// is that client, with one error per client (errs is nil when every client
// loaded).
func (l *Loaders) ProjectsOfClients(ctx context.Context, clients []string) (lists [][]*domain.Project, errs []error) {
	if l.lists.started(projectListKey(domain.ProjectFilter{})) {
		idx, err := l.projectsByClientCode(ctx)
		return fromIndex(clients, idx, err)
	}
	return l.projectsByClient.loadMany(ctx, clients)
}

// fromIndex answers each key from idx, or each with err.
func fromIndex[T any](keys []string, idx index[T], err error) ([][]*T, []error) {
	lists := make([][]*T, len(keys))
	var errs []error
	if err != nil {
		errs = make([]error, len(keys))
	}
	for i, k := range keys {
		if err != nil {
			errs[i] = err
			continue
		}
		lists[i] = idx.get(k)
	}
	return lists, errs
}

// EnnisOfClientIndexed is EnnisOfClients for one client when that needs no
// batching wait: ok is false, and nothing is loaded, unless the list for f
// is already fetched or in flight in this request.
func (l *Loaders) EnnisOfClientIndexed(ctx context.Context, client string, f domain.EnniFilter) (list []*domain.Enni, ok bool, err error) {
	if f.ShortName != nil || !l.lists.started(enniListKey(f)) {
		return nil, false, nil
	}
	idx, err := l.ennisByShortName(ctx, f)
	return idx.get(client), true, err
}

// ProjectsOfClientIndexed is ProjectsOfClients for one client when that
// needs no batching wait: ok is false, and nothing is loaded, unless the unfiltered project
// list is already fetched or in flight in this request.
func (l *Loaders) ProjectsOfClientIndexed(ctx context.Context, client string) (list []*domain.Project, ok bool, err error) {
	if !l.lists.started(projectListKey(domain.ProjectFilter{})) {
		return nil, false, nil
	}
	idx, err := l.projectsByClientCode(ctx)
	return idx.get(client), true, err
}

func (l *Loaders) batchProjectByCode(ctx context.Context, codes []string) []*dataloader.Result[*domain.Project] {
	all := domain.ProjectFilter{}
	if len(codes) == 1 && !l.lists.started(projectListKey(all)) {
		list, err := l.Projects(ctx, domain.ProjectFilter{Code: &codes[0]})
		return pick(codes, list, err, func(p *domain.Project) string { return p.Code })
	}
	list, err := l.Projects(ctx, all)
	return pick(codes, list, err, func(p *domain.Project) string { return p.Code })
}

func (l *Loaders) batchEnniByReference(ctx context.Context, refs []string) []*dataloader.Result[*domain.Enni] {
	all := domain.EnniFilter{}
	if len(refs) == 1 && !l.lists.started(enniListKey(all)) {
		list, err := l.Ennis(ctx, domain.EnniFilter{Reference: &refs[0]})
		return pick(refs, list, err, func(e *domain.Enni) string { return e.Reference })
	}
	list, err := l.Ennis(ctx, all)
	return pick(refs, list, err, func(e *domain.Enni) string { return e.Reference })
}

// batchBusinessByCode always reads the list: Covage has no business filter.
func (l *Loaders) batchBusinessByCode(ctx context.Context, codes []string) []*dataloader.Result[*domain.Business] {
	list, err := l.Businesses(ctx)
	return pick(codes, list, err, func(b *domain.Business) string { return b.Code })
}

// batchProjectsByClient always reads the unfiltered list: Covage documents
// no code_client filter on projects, so one list call serves every client.
func (l *Loaders) batchProjectsByClient(ctx context.Context, clients []string) []*dataloader.Result[[]*domain.Project] {
	idx, err := l.projectsByClientCode(ctx)
	return answer(clients, idx, err)
}

// batchEnnisByClient groups its keys by door filter; each group costs one
// call: the filtered call for a lone client, else the list for the filter.
func (l *Loaders) batchEnnisByClient(ctx context.Context, keys []clientKey) []*dataloader.Result[[]*domain.Enni] {
	results := make([]*dataloader.Result[[]*domain.Enni], len(keys))
	byFilter := make(map[enniFilterKey][]int)
	for i, k := range keys {
		byFilter[k.filter] = append(byFilter[k.filter], i)
	}
	var wg sync.WaitGroup
	for fk, idx := range byFilter {
		wg.Go(func() {
			// This goroutine is the batch's own: a panic here would end
			// the process, so it fails the group's keys instead.
			defer func() {
				if err := recovered(recover()); err != nil {
					for _, i := range idx {
						results[i] = &dataloader.Result[[]*domain.Enni]{Error: err}
					}
				}
			}()
			clients := make([]string, len(idx))
			for j, i := range idx {
				clients[j] = keys[i].client
			}
			for j, r := range l.ennisOfClients(ctx, clients, fk.filter()) {
				results[idx[j]] = r
			}
		})
	}
	wg.Wait()
	return results
}

func (l *Loaders) ennisOfClients(ctx context.Context, clients []string, f domain.EnniFilter) []*dataloader.Result[[]*domain.Enni] {
	if f.ShortName != nil || (len(clients) == 1 && !l.lists.started(enniListKey(f))) {
		// A filter that names a client, or a lone client: the filtered
		// call. Its result is grouped too, in case upstream matched loosely.
		one := f
		if one.ShortName == nil {
			one.ShortName = &clients[0]
		}
		list, err := l.Ennis(ctx, one)
		return answer(clients, groupBy(list, enniShortName), err)
	}
	idx, err := l.ennisByShortName(ctx, f)
	return answer(clients, idx, err)
}

// pick answers each key with the item whose key matches exactly, or nil.
// Upstream filters may match loosely, so the match is checked here.
func pick[T any](keys []string, list []*T, err error, keyOf func(*T) string) []*dataloader.Result[*T] {
	results := make([]*dataloader.Result[*T], len(keys))
	if err != nil {
		for i := range results {
			results[i] = &dataloader.Result[*T]{Error: err}
		}
		return results
	}
	want := make(map[string]int, len(keys))
	for i, k := range keys {
		want[k] = i
		results[i] = &dataloader.Result[*T]{}
	}
	for _, item := range list {
		if i, ok := want[keyOf(item)]; ok && results[i].Data == nil {
			results[i].Data = item
		}
	}
	return results
}

// answer gives each key its group, or the error to every key.
func answer[T any](keys []string, idx index[T], err error) []*dataloader.Result[[]*T] {
	results := make([]*dataloader.Result[[]*T], len(keys))
	for i, k := range keys {
		if err != nil {
			results[i] = &dataloader.Result[[]*T]{Error: err}
			continue
		}
		results[i] = &dataloader.Result[[]*T]{Data: idx.get(k)}
	}
	return results
}

package loaders

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graph-gophers/dataloader/v7"
	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

var errNotFound = errors.New("not found")

// fake is an Upstream over fixed lists that records every call.
type fake struct {
	mu       sync.Mutex
	calls    []string
	projects []*domain.Project
	ennis    []*domain.Enni
	delay    time.Duration
	inFlight atomic.Int64
	maxIn    atomic.Int64
	fail     error
	// goroutines, when set, is told the process's goroutine count at each
	// billing-site call.
	goroutines func(int)
}

func (f *fake) record(call string) error {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxIn.Load()
		if n <= m || f.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(f.delay)
	return f.fail
}

func (f *fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fake) Projects(_ context.Context, flt domain.ProjectFilter) ([]*domain.Project, error) {
	if err := f.record(projectListKey(flt)); err != nil {
		return nil, err
	}
	var out []*domain.Project
	for _, p := range f.projects {
		if flt.Code == nil || *flt.Code == p.Code {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fake) Ennis(_ context.Context, flt domain.EnniFilter) ([]*domain.Enni, error) {
	if err := f.record(enniListKey(flt)); err != nil {
		return nil, err
	}
	var out []*domain.Enni
	for _, e := range f.ennis {
		if (flt.ShortName == nil || (e.ShortName != nil && *flt.ShortName == *e.ShortName)) &&
			(flt.Reference == nil || *flt.Reference == e.Reference) &&
			(flt.Offer == nil || (e.Offer != nil && *flt.Offer == *e.Offer)) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fake) Businesses(context.Context) ([]*domain.Business, error) {
	return []*domain.Business{{Code: "B1"}, {Code: "B2"}}, f.record(keyBusinesses)
}

func (f *fake) BillingSite(_ context.Context, code string) (*domain.BillingSite, error) {
	if err := f.record("billing_site/" + code); err != nil {
		return nil, err
	}
	switch code {
	case "NOPE":
		return nil, fmt.Errorf("covage billing_site: %w", errNotFound)
	case "FAIL":
		return nil, errors.New("covage billing_site: 503")
	case "PANIC":
		panic("injected billing-site panic")
	}
	if f.goroutines != nil {
		f.goroutines(runtime.NumGoroutine())
	}
	return &domain.BillingSite{Code: code}, nil
}

func (f *fake) TerminateReasons(context.Context) ([]*domain.TerminateReason, error) {
	return nil, f.record(keyTerminateReasons)
}

func (f *fake) ChangeReasons(context.Context) ([]*domain.ChangeReason, error) {
	return nil, f.record(keyChangeReasons)
}

func (f *fake) SiteConnectionTypes(context.Context) ([]*domain.SiteConnectionType, error) {
	return nil, f.record(keySiteConnectionTypes)
}

func ptr[T any](v T) *T { return &v }

func newFake() *fake {
	f := &fake{}
	for i := range 6 {
		client := fmt.Sprintf("C%d", i%3)
		f.projects = append(f.projects, &domain.Project{Code: fmt.Sprintf("P%d", i), ClientCode: ptr(client)})
		offer := domain.OfferBPE
		if i%2 == 0 {
			offer = domain.OfferBPEA
		}
		f.ennis = append(f.ennis, &domain.Enni{Reference: fmt.Sprintf("E%d", i), ShortName: ptr(client), Offer: &offer})
	}
	f.projects = append(f.projects, &domain.Project{Code: "ORPHAN"})
	return f
}

func newTestLoaders(f *fake) *Loaders {
	return New(f, Config{Wait: 5 * time.Millisecond, IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }})
}

// loadAll runs fn for each key concurrently, as gqlgen runs field resolvers.
func loadAll[T any](keys []string, fn func(string) (T, error)) ([]T, []error) {
	out := make([]T, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { out[i], errs[i] = fn(k) })
	}
	wg.Wait()
	return out, errs
}

// TestEnnisOfClients checks the relation rule, through the dataloader's
// batch and with the keys marked Alone (no window): same calls, same
// answers; duplicate clients cost nothing.
func TestEnnisOfClients(t *testing.T) {
	cases := []struct {
		name    string
		clients []string
		filter  domain.EnniFilter
		calls   []string
		sizes   []int
	}{
		{"one client uses the filtered call", []string{"C1"}, domain.EnniFilter{}, []string{"enni?short_name=C1"}, []int{2}},
		{"one client twice", []string{"C1", "C1"}, domain.EnniFilter{}, []string{"enni?short_name=C1"}, []int{2, 2}},
		{"several clients share one list call", []string{"C0", "C1", "C2", "C9"}, domain.EnniFilter{}, []string{"enni?"}, []int{2, 2, 2, 0}},
		{"the filter goes upstream", []string{"C0", "C1"}, domain.EnniFilter{Offer: ptr(domain.OfferBPEA)}, []string{"enni?offer=BPEA"}, []int{1, 1}},
		{"a filter naming a client is fetched as is", []string{"C0", "C1"}, domain.EnniFilter{ShortName: ptr("C1")}, []string{"enni?short_name=C1"}, []int{0, 2}},
	}
	for _, alone := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("alone=%v/%s", alone, tc.name), func(t *testing.T) {
				ctx := context.Background()
				if alone {
					ctx = Alone(ctx)
				}
				f := newFake()
				l := newTestLoaders(f)
				got, errs := l.EnnisOfClients(ctx, tc.clients, tc.filter)
				require.Nil(t, errs)
				for i := range tc.clients {
					require.Len(t, got[i], tc.sizes[i], tc.clients[i])
					for _, e := range got[i] {
						require.Equal(t, tc.clients[i], *e.ShortName)
					}
				}
				require.Equal(t, tc.calls, f.Calls())
			})
		}
	}
}

func TestStartedListIsReused(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	l := newTestLoaders(f)
	l.PrefetchEnnis(ctx, domain.EnniFilter{})
	got, errs := l.EnnisOfClients(ctx, []string{"C1"}, domain.EnniFilter{})
	require.Nil(t, errs)
	require.Len(t, got[0], 2)
	p, err := l.EnniByReference(ctx, "E3")
	require.NoError(t, err)
	require.Equal(t, "E3", p.Reference)
	require.Equal(t, []string{"enni?"}, f.Calls(), "a lone key reads the list already in flight")
}

func TestProjectLookups(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	l := newTestLoaders(f)
	got, errs := loadAll([]string{"P1", "P2", "NOPE", "P1"}, func(c string) (*domain.Project, error) { return l.ProjectByCode(ctx, c) })
	require.Equal(t, []error{nil, nil, nil, nil}, errs)
	require.Equal(t, "P1", got[0].Code)
	require.Equal(t, "P2", got[1].Code)
	require.Nil(t, got[2])
	require.Same(t, got[0], got[3])
	require.Equal(t, []string{"project?"}, f.Calls())

	f2 := newFake()
	one, err := newTestLoaders(f2).ProjectByCode(ctx, "P4")
	require.NoError(t, err)
	require.Equal(t, "P4", one.Code)
	require.Equal(t, []string{"project?code=P4"}, f2.Calls())

	byClient, errs := l.ProjectsOfClients(ctx, []string{"C0", "C1"})
	require.Nil(t, errs)
	require.Len(t, byClient[0], 2)
	require.Len(t, byClient[1], 2)
	require.Equal(t, []string{"project?"}, f.Calls(), "the list fetched for the lookups serves the relation")
}

func TestBillingSitesBoundedPool(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.delay = 10 * time.Millisecond
	l := New(f, Config{BillingSitePool: 4, IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }})
	codes := []string{"A", "B", "NOPE", "C", "D", "E", "F", "A", "B", "G", "H"}
	sites, errs := l.BillingSites(ctx, codes)
	require.Nil(t, errs)
	require.Len(t, sites, len(codes))
	for i, c := range codes {
		if c == "NOPE" {
			require.Nil(t, sites[i])
		} else {
			require.Equal(t, c, sites[i].Code)
		}
	}
	require.Len(t, f.Calls(), 9, "one GET per distinct code")
	require.LessOrEqual(t, f.maxIn.Load(), int64(4))
	require.Greater(t, f.maxIn.Load(), int64(1))
}

// TestBillingSitesKeepWhatLoaded checks that a failed code, or one whose
// fetch panicked, is nil with its own error, and every other entry is kept.
func TestBillingSitesKeepWhatLoaded(t *testing.T) {
	l := New(newFake(), Config{IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }})
	codes := []string{"A", "FAIL", "B", "PANIC", "NOPE", "FAIL", "C"}
	sites, errs := l.BillingSites(context.Background(), codes)
	require.Len(t, errs, len(codes))
	for i, c := range codes {
		switch c {
		case "FAIL":
			require.ErrorContains(t, errs[i], "503", "entry %d", i)
			require.Nil(t, sites[i])
		case "PANIC":
			var pe *PanicError
			require.ErrorAs(t, errs[i], &pe)
			require.Contains(t, string(pe.Stack), "BillingSite")
			require.Nil(t, sites[i])
		case "NOPE":
			require.NoError(t, errs[i])
			require.Nil(t, sites[i])
		default:
			require.NoError(t, errs[i])
			require.Equal(t, c, sites[i].Code)
		}
	}
}

// TestBillingSitesFixedWorkers checks that many codes, asked by three
// billingSites fields of one request at once, run on the request's pool of
// workers, not on a goroutine each: the process's goroutine count grows by
// about the pool size (plus the three callers), not by the number of codes.
func TestBillingSitesFixedWorkers(t *testing.T) {
	f := newFake()
	f.delay = time.Millisecond
	var most atomic.Int64
	f.goroutines = func(n int) {
		for m := most.Load(); int64(n) > m && !most.CompareAndSwap(m, int64(n)); m = most.Load() {
		}
	}
	l := New(f, Config{BillingSitePool: 4})
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for field := range 3 {
		wg.Go(func() {
			codes := make([]string, 200)
			for i := range codes {
				codes[i] = fmt.Sprint("S", field, "-", i)
			}
			sites, errs := l.BillingSites(context.Background(), codes)
			require.Nil(t, errs)
			require.Len(t, sites, 200)
		})
	}
	wg.Wait()
	require.Len(t, f.Calls(), 600)
	// 3 callers and 4 workers; the margin covers goroutines of the runtime
	// and the test framework, far below the 600 a goroutine per code would
	// add, or the 12 of a pool per field.
	require.Less(t, int(most.Load())-before, 3+4+5)
	require.LessOrEqual(t, f.maxIn.Load(), int64(4))
}

func TestErrorsReachEveryKey(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.fail = errors.New("boom")
	l := newTestLoaders(f)
	for _, ctx := range []context.Context{ctx, Alone(ctx)} {
		_, errs := l.EnnisOfClients(ctx, []string{"C0", "C1"}, domain.EnniFilter{})
		require.Len(t, errs, 2)
		require.ErrorIs(t, errs[0], f.fail)
		require.ErrorIs(t, errs[1], f.fail)
	}
	_, err := l.BillingSite(ctx, "A")
	require.ErrorIs(t, err, f.fail)
}

func TestMemo(t *testing.T) {
	var m memo
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func(context.Context) (int, error) {
		runs.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make([]int, 10)
	for i := range results {
		wg.Go(func() { results[i], _ = remember(context.Background(), &m, "k", fn) })
	}
	// A waiter whose context ends stops waiting without ending the call.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !m.started("k") {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	for !m.started("k") {
		time.Sleep(time.Millisecond)
	}
	_, err := remember(ctx, &m, "k", fn)
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, runs.Load())
	for _, r := range results {
		require.Equal(t, 42, r)
	}

	// A panicking call fails its owner and its waiters with a
	// *PanicError, and does not panic on: it may run in a goroutine of its
	// own (prefetch).
	var pe *PanicError
	_, err = remember(context.Background(), &m, "p", func(context.Context) (int, error) { panic("boom") })
	require.ErrorAs(t, err, &pe)
	_, err = remember(context.Background(), &m, "p", fn)
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "boom", pe.Value)
	require.True(t, pe.FirstReport())
	require.False(t, pe.FirstReport(), "the stack is logged once")

	// A prefetch that panics fails whoever waits for it, and the process
	// goes on.
	prefetch(context.Background(), &m, "q", func(context.Context) (int, error) { panic("boom in a goroutine") })
	_, err = remember(context.Background(), &m, "q", fn)
	require.ErrorAs(t, err, &pe)
}

// TestBatchPanicsFailTheirKeys checks that a panic in a batch function,
// which runs in a dataloader goroutine or a timer callback, answers each
// key of the batch with a *PanicError instead of ending the process.
func TestBatchPanicsFailTheirKeys(t *testing.T) {
	for name, ctx := range map[string]context.Context{
		"dataloader window":    context.Background(),
		"alone":                Alone(context.Background()),
		"expected calls timer": ExpectCalls(context.Background(), 3), // two calls come: the timer fires
	} {
		t.Run(name, func(t *testing.T) {
			var z lazy[string, int]
			cfg := Config{Wait: time.Millisecond}.withDefaults()
			z.init(&cfg, "boom", func(context.Context, []string) []*dataloader.Result[int] { panic("injected batch panic") })
			_, errs := loadAll([]string{"a", "b"}, func(k string) (int, error) {
				_, errs := z.loadMany(ctx, []string{k})
				if errs == nil {
					return 0, nil
				}
				return 0, errs[0]
			})
			for _, err := range errs {
				var pe *PanicError
				require.ErrorAs(t, err, &pe)
			}
		})
	}
}

func TestForWithoutMiddlewarePanics(t *testing.T) {
	require.Panics(t, func() { For(context.Background()) })
	l := New(newFake(), Config{})
	require.Same(t, l, For(WithLoaders(context.Background(), l)))
}

// TestExpectedKeysLeaveEarly runs with a one-minute window: lookups told
// how many keys to expect leave as soon as those have arrived, in one
// batch (one list call), and a lone key goes at once (its filtered call).
// A regression waits the minute out rather than hanging the suite.
func TestExpectedKeysLeaveEarly(t *testing.T) {
	f := newFake()
	l := New(f, Config{Wait: time.Minute})
	ctx := Expect(context.Background(), 2)
	got, errs := loadAll([]string{"P1", "P2"}, func(c string) (*domain.Project, error) { return l.ProjectByCode(ctx, c) })
	require.Equal(t, []error{nil, nil}, errs)
	require.Equal(t, "P1", got[0].Code)
	require.Equal(t, "P2", got[1].Code)
	require.Equal(t, []string{"project?"}, f.Calls())

	f2 := newFake()
	one, err := New(f2, Config{Wait: time.Minute}).ProjectByCode(Alone(context.Background()), "P4")
	require.NoError(t, err)
	require.Equal(t, "P4", one.Code)
	require.Equal(t, []string{"project?code=P4"}, f2.Calls())
}

// TestExpectedCallsGather checks the batch calls a request announces make
// one batch as soon as the last arrives (a one-minute window that a
// regression would wait out), and that a call that never comes only delays
// the batch to the end of the window.
func TestExpectedCallsGather(t *testing.T) {
	f := newFake()
	l := New(f, Config{Wait: time.Minute})
	ctx := ExpectCalls(context.Background(), 2)
	got, errs := loadAll([]string{"C0", "C1"}, func(c string) ([][]*domain.Enni, error) {
		lists, errs := l.EnnisOfClients(ctx, []string{c, c}, domain.EnniFilter{})
		return lists, errors.Join(errs...)
	})
	for i, c := range []string{"C0", "C1"} {
		require.NoError(t, errs[i])
		require.Len(t, got[i], 2)
		require.Len(t, got[i][0], 2, c)
		require.Same(t, got[i][0][0], got[i][1][0])
	}
	require.Equal(t, []string{"enni?"}, f.Calls(), "one list call for both batch calls")

	f2 := newFake()
	late := New(f2, Config{Wait: 20 * time.Millisecond})
	lists, errs2 := late.EnnisOfClients(ExpectCalls(context.Background(), 2), []string{"C1"}, domain.EnniFilter{})
	require.Nil(t, errs2)
	require.Len(t, lists[0], 2)
	require.Equal(t, []string{"enni?short_name=C1"}, f2.Calls(), "the missing call does not block the batch")
}

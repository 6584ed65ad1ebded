// Package demo is an in-process fake of Covage's referential REST API. The
// gateway serves it when no real Covage URL is configured, tests mount it
// with httptest, and benchmarks feed it generated data.
//
// It speaks the upstream wire format with its own structs and imports no
// other package of this module, so it can never drift along with the client
// it is meant to check. It counts the calls it serves per endpoint, so tests
// can prove batching by numbers, and it can add latency, paginate, require
// OAuth2 bearer tokens and inject faults.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TokenPath is where the fake Keycloak token endpoint listens.
const TokenPath = "/auth/realms/covage/protocol/openid-connect/token"

// apiPrefix is the path every data endpoint lives under.
const apiPrefix = "/api/v1/referential/"

// Endpoint names, as accepted by Calls and MaxInFlight.
const (
	endpointProject         = "project"
	endpointEnni            = "enni"
	endpointBusiness        = "business_code"
	endpointBillingSite     = "billing_site"
	endpointTerminateReason = "terminate_reason"
	endpointChangeReason    = "change_reason"
	endpointSiteConnection  = "site_connection"
	endpointToken           = "token"
)

var endpointNames = []string{
	endpointProject, endpointEnni, endpointBusiness, endpointBillingSite,
	endpointTerminateReason, endpointChangeReason, endpointSiteConnection, endpointToken,
}

// Defaults for the token lifetimes.
const (
	defaultTokenTTL   = 5 * time.Minute
	defaultRefreshTTL = 30 * time.Minute
)

// Option configures a Server.
type Option func(*Server)

// WithLatency makes every data request wait d before it is answered. The
// wait ends early, with no answer, when the request's context is cancelled.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithPageSize paginates lists the way Django REST Framework's
// PageNumberPagination does: an envelope {"count","next","previous","results"}
// with ?page=N and absolute next/previous URLs. With 0, the default, lists
// are bare JSON arrays. Reason lists are never paginated.
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = max(n, 0) } }

// WithCredentials turns authentication on: data endpoints then require a
// bearer token issued by the token endpoint for this username and password.
// Without it, data endpoints ignore any Authorization header.
func WithCredentials(username, password string) Option {
	return func(s *Server) {
		s.auth = true
		s.username, s.password = username, password
	}
}

// WithTokenTTL sets the access token lifetime, 5 minutes by default.
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// Fault is an error that the server answers instead of data. The zero value
// means no fault.
type Fault struct {
	// Status is the HTTP status to answer; 0 disables the fault.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body is the response body; when empty it is {"detail": status text}.
	Body string
	// Times limits the fault to that many data requests, after which the
	// server answers normally again. 0 means every request until cleared.
	Times int
}

// faultState is an installed Fault and how many answers it has left.
type faultState struct {
	Fault
	body      []byte
	remaining atomic.Int64
}

// counter holds one endpoint's statistics.
type counter struct {
	calls       atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

func (c *counter) enter() {
	n := c.inFlight.Add(1)
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			return
		}
	}
}

func (c *counter) leave() { c.inFlight.Add(-1) }

// Server is the fake upstream. It is an http.Handler and is safe for
// concurrent use.
type Server struct {
	latency    time.Duration
	pageSize   int
	auth       bool
	username   string
	password   string
	tokenTTL   time.Duration
	refreshTTL time.Duration

	data     atomic.Pointer[snapshot]
	fault    atomic.Pointer[faultState]
	counters map[string]*counter // fixed after New, so reads need no lock
	total    atomic.Int64
	conns    atomic.Int64 // connections opened, counted by ConnState

	mu      sync.RWMutex
	access  map[string]time.Time // access token -> expiry
	refresh map[string]time.Time // refresh token -> expiry
}

// New returns a server that serves ds; a nil ds serves Sample(). The server
// encodes ds once, up front, so later changes to ds are not seen: use
// SetDataset to change the data.
func New(ds *Dataset, opts ...Option) *Server {
	s := &Server{
		tokenTTL:   defaultTokenTTL,
		refreshTTL: defaultRefreshTTL,
		counters:   make(map[string]*counter, len(endpointNames)),
		access:     make(map[string]time.Time),
		refresh:    make(map[string]time.Time),
	}
	for _, o := range opts {
		o(s)
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = defaultTokenTTL
	}
	s.refreshTTL = max(s.refreshTTL, s.tokenTTL)
	for _, name := range endpointNames {
		s.counters[name] = new(counter)
	}
	s.SetDataset(ds)
	return s
}

// SetDataset replaces the data served from now on; a nil ds serves Sample().
// Requests already being answered finish with the old data.
func (s *Server) SetDataset(ds *Dataset) {
	if ds == nil {
		ds = Sample()
	}
	s.data.Store(newSnapshot(ds, s.pageSize))
}

// Calls returns how many requests the endpoint has served since the last
// Reset, error answers included. Endpoint names are "project", "enni",
// "business_code", "billing_site", "terminate_reason", "change_reason",
// "site_connection" and "token"; any other name has 0 calls.
func (s *Server) Calls(endpoint string) int64 {
	if c, ok := s.counters[endpoint]; ok {
		return c.calls.Load()
	}
	return 0
}

// Total returns how many data requests all endpoints have served since the
// last Reset. Token requests and requests for unknown paths do not count.
func (s *Server) Total() int64 { return s.total.Load() }

// MaxInFlight returns the highest number of requests the endpoint has been
// answering at the same time since the last Reset.
func (s *Server) MaxInFlight(endpoint string) int64 {
	if c, ok := s.counters[endpoint]; ok {
		return c.maxInFlight.Load()
	}
	return 0
}

// Reset zeroes the counters. Requests in flight keep being tracked, so a
// later MaxInFlight still sees them.
func (s *Server) Reset() {
	for _, c := range s.counters {
		c.calls.Store(0)
		c.maxInFlight.Store(c.inFlight.Load())
	}
	s.total.Store(0)
	s.conns.Store(0)
}

// SetFault makes subsequent data requests fail with f; the zero Fault
// clears it. Token requests are never faulted.
func (s *Server) SetFault(f Fault) {
	if f.Status == 0 {
		s.fault.Store(nil)
		return
	}
	st := &faultState{Fault: f, body: []byte(f.Body)}
	if f.Body == "" {
		st.body = detail(http.StatusText(f.Status))
	}
	st.remaining.Store(int64(f.Times))
	s.fault.Store(st)
}

// takeFault returns the fault to answer now, if any, and uses up one of its
// answers when it is limited.
func (s *Server) takeFault() *faultState {
	f := s.fault.Load()
	if f == nil {
		return nil
	}
	if f.Times > 0 && f.remaining.Add(-1) < 0 {
		s.fault.CompareAndSwap(f, nil)
		return nil
	}
	return f
}

// ServeHTTP answers one request as Covage would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath || r.URL.Path == TokenPath+"/" {
		s.serveToken(w, r)
		return
	}
	endpoint, arg, ok := route(r.URL.Path)
	if !ok {
		writeJSON(w, http.StatusNotFound, notFound)
		return
	}
	c := s.counters[endpoint]
	c.calls.Add(1)
	s.total.Add(1)
	c.enter()
	defer c.leave()

	if s.latency > 0 && !sleep(r.Context(), s.latency) {
		return
	}
	if f := s.takeFault(); f != nil {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, f.Status, f.body)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, detail(`Method "`+r.Method+`" not allowed.`))
		return
	}
	if s.auth && !s.authorized(w, r) {
		return
	}

	d := s.data.Load()
	switch endpoint {
	case endpointProject:
		serveList(w, r, &d.projects, d.ds.Projects, projectFilters, s.pageSize)
	case endpointEnni:
		serveList(w, r, &d.ennis, d.ds.Ennis, enniFilters, s.pageSize)
	case endpointBusiness:
		serveList(w, r, &d.businesses, d.ds.Businesses, nil, s.pageSize)
	case endpointBillingSite:
		body, ok := d.billingSites[arg]
		if !ok {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		writeJSON(w, http.StatusOK, body)
	case endpointTerminateReason:
		writeJSON(w, http.StatusOK, d.terminateReasons)
	case endpointChangeReason:
		writeJSON(w, http.StatusOK, d.changeReasons)
	case endpointSiteConnection:
		writeJSON(w, http.StatusOK, d.siteConnectionTypes)
	}
}

// route maps a request path to its endpoint name and, for a billing site,
// the site code. It accepts each path with and without a trailing slash, and
// reports false for any other path, which is answered 404 and not counted.
func route(path string) (endpoint, arg string, ok bool) {
	rest, found := strings.CutPrefix(path, apiPrefix)
	if !found {
		return "", "", false
	}
	rest = strings.TrimSuffix(rest, "/")
	name, arg, hasArg := strings.Cut(rest, "/")
	switch name {
	case endpointBillingSite:
		if !hasArg || arg == "" || strings.Contains(arg, "/") {
			return "", "", false
		}
		return name, arg, true
	case endpointProject, endpointEnni, endpointBusiness,
		endpointTerminateReason, endpointChangeReason, endpointSiteConnection:
		if hasArg {
			return "", "", false
		}
		return name, "", true
	}
	return "", "", false
}

// sleep waits d and reports whether it did; it returns false as soon as ctx
// is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// notFound is Django REST Framework's 404 body.
var notFound = detail("Not found.")

// detail encodes Django REST Framework's error body {"detail": msg}.
func detail(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"detail": msg})
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// snapshot is a dataset with its responses encoded once, so an unfiltered
// request only copies bytes.
type snapshot struct {
	ds                  *Dataset
	projects            encodedList
	ennis               encodedList
	businesses          encodedList
	billingSites        map[string][]byte
	terminateReasons    []byte
	changeReasons       []byte
	siteConnectionTypes []byte
}

// encodedList is a list encoded whole (for bare-array answers) or page by
// page (for paginated answers, whose results arrays are then wrapped in an
// envelope holding URLs that depend on the request).
type encodedList struct {
	count int
	whole []byte
	pages [][]byte
}

func newSnapshot(ds *Dataset, pageSize int) *snapshot {
	d := &snapshot{
		ds:           ds,
		projects:     encodeList(ds.Projects, pageSize),
		ennis:        encodeList(ds.Ennis, pageSize),
		businesses:   encodeList(ds.Businesses, pageSize),
		billingSites: make(map[string][]byte, len(ds.BillingSites)),
		terminateReasons: mustMarshal(struct {
			V []string `json:"terminate_reasons"`
		}{nonNil(ds.TerminateReasons)}),
		changeReasons: mustMarshal(struct {
			V []string `json:"change_reasons"`
		}{nonNil(ds.ChangeReasons)}),
		siteConnectionTypes: mustMarshal(struct {
			V []string `json:"available_site_connection_types"`
		}{nonNil(ds.SiteConnectionTypes)}),
	}
	for _, b := range ds.BillingSites {
		if _, dup := d.billingSites[b.Code]; !dup {
			d.billingSites[b.Code] = mustMarshal(b)
		}
	}
	return d
}

func encodeList[T any](items []T, pageSize int) encodedList {
	l := encodedList{count: len(items)}
	if pageSize == 0 {
		l.whole = mustMarshal(nonNil(items))
		return l
	}
	for start := 0; start < len(items) || start == 0; start += pageSize {
		l.pages = append(l.pages, mustMarshal(nonNil(items[start:min(start+pageSize, len(items))])))
	}
	return l
}

// mustMarshal encodes v, which is always one of this package's plain record
// types and so cannot fail.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("demo: " + err.Error())
	}
	return b
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// filter is one query parameter a list can be filtered by.
type filter[T any] struct {
	param   string
	str     func(*T) string // exact-match string field, or
	boolean func(*T) bool   // boolean field
}

var projectFilters = []filter[Project]{
	{param: "code", str: func(p *Project) string { return p.Code }},
	{param: "active", boolean: func(p *Project) bool { return p.Active }},
}

var enniFilters = []filter[Enni]{
	{param: "reference", str: func(e *Enni) string { return e.Reference }},
	{param: "name", str: func(e *Enni) string { return e.Name }},
	{param: "short_name", str: func(e *Enni) string { return e.ShortName }},
	{param: "active", boolean: func(e *Enni) bool { return e.Active }},
	{param: "offer", str: func(e *Enni) string { return e.Offer }},
	{param: "dsp", str: func(e *Enni) string { return e.Dsp }},
	{param: "delivery_mode", str: func(e *Enni) string { return e.DeliveryMode }},
}

// parseBool accepts the spellings django-filter's BooleanFilter does.
func parseBool(s string) (v, ok bool) {
	switch s {
	case "true", "True", "1":
		return true, true
	case "false", "False", "0":
		return false, true
	}
	return false, false
}

// lastValue returns the query parameter's last value, as Django's QueryDict
// does when a parameter is repeated.
func lastValue(q url.Values, key string) string {
	vs := q[key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// serveList answers a list endpoint. Like django-filter, it ignores unknown
// parameters and empty values, and answers 400 for an invalid boolean.
func serveList[T any](w http.ResponseWriter, r *http.Request, enc *encodedList, items []T, filters []filter[T], pageSize int) {
	q := r.URL.Query()
	type active struct {
		f    *filter[T]
		str  string
		want bool
	}
	var applied []active
	for i := range filters {
		f := &filters[i]
		v := lastValue(q, f.param)
		if v == "" {
			continue
		}
		a := active{f: f, str: v}
		if f.boolean != nil {
			b, ok := parseBool(v)
			if !ok {
				body := mustMarshal(map[string][]string{
					f.param: {"Select a valid choice. " + v + " is not one of the available choices."},
				})
				writeJSON(w, http.StatusBadRequest, body)
				return
			}
			a.want = b
		}
		applied = append(applied, a)
	}

	if len(applied) == 0 {
		if pageSize == 0 {
			writeJSON(w, http.StatusOK, enc.whole)
			return
		}
		page, ok := pageNumber(q, enc.count, pageSize)
		if !ok {
			writeJSON(w, http.StatusNotFound, detail("Invalid page."))
			return
		}
		writeJSON(w, http.StatusOK, envelope(r, enc.count, page, pageSize, enc.pages[page-1]))
		return
	}

	matched := make([]T, 0)
	for i := range items {
		keep := true
		for _, a := range applied {
			if a.f.boolean != nil {
				keep = a.f.boolean(&items[i]) == a.want
			} else {
				keep = a.f.str(&items[i]) == a.str
			}
			if !keep {
				break
			}
		}
		if keep {
			matched = append(matched, items[i])
		}
	}
	if pageSize == 0 {
		writeJSON(w, http.StatusOK, mustMarshal(matched))
		return
	}
	page, ok := pageNumber(q, len(matched), pageSize)
	if !ok {
		writeJSON(w, http.StatusNotFound, detail("Invalid page."))
		return
	}
	start := (page - 1) * pageSize
	results := mustMarshal(matched[start:min(start+pageSize, len(matched))])
	writeJSON(w, http.StatusOK, envelope(r, len(matched), page, pageSize, results))
}

// pageCount is the number of pages of count items; an empty list still has
// its first page, as in Django's paginator.
func pageCount(count, pageSize int) int {
	return max((count+pageSize-1)/pageSize, 1)
}

// pageNumber reads ?page=, which is 1 when absent and may be "last". It
// reports false for a page that is not a number or out of range.
func pageNumber(q url.Values, count, pageSize int) (int, bool) {
	last := pageCount(count, pageSize)
	v := lastValue(q, "page")
	switch v {
	case "":
		return 1, true
	case "last":
		return last, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > last {
		return 0, false
	}
	return n, true
}

// envelope wraps one page of encoded results the way Django REST
// Framework's PageNumberPagination does.
func envelope(r *http.Request, count, page, pageSize int, results []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(results) + 256)
	b.WriteString(`{"count":`)
	b.WriteString(strconv.Itoa(count))
	b.WriteString(`,"next":`)
	if page < pageCount(count, pageSize) {
		b.Write(mustMarshal(pageURL(r, page+1)))
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"previous":`)
	if page > 1 {
		b.Write(mustMarshal(pageURL(r, page-1)))
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"results":`)
	b.Write(results)
	b.WriteByte('}')
	return b.Bytes()
}

// pageURL is the absolute URL of another page of the same request. It is
// built from the request URI the client sent, not r.URL, so it keeps any
// path prefix that a mux in front of the server stripped. Like Django REST
// Framework, it drops the page parameter for the first page.
func pageURL(r *http.Request, page int) string {
	u := *r.URL
	if r.RequestURI != "" {
		if ru, err := url.ParseRequestURI(r.RequestURI); err == nil {
			u = *ru
		}
	}
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	u.Host = r.Host
	q := u.Query()
	if page == 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(page))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

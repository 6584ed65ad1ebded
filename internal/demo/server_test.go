package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var pretty bytes.Buffer
		require.NoError(t, json.Indent(&pretty, got, "", "  "))
		pretty.WriteByte('\n')
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.JSONEq(t, string(want), string(got))
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path     string
		endpoint string
		golden   string
	}{
		{"project", "project", "project.json"},
		{"enni", "enni", "enni.json"},
		{"business_code", "business_code", "business_code.json"},
		{"billing_site/AUX00", "billing_site", "billing_site_AUX00.json"},
		{"terminate_reason", "terminate_reason", "terminate_reason.json"},
		{"change_reason", "change_reason", "change_reason.json"},
		{"site_connection", "site_connection", "site_connection.json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, nil)
			for i, suffix := range []string{"", "/"} {
				res := get(t, ts.URL+api+tt.path+suffix)
				require.Equal(t, http.StatusOK, res.status, "suffix %q: %s", suffix, res.body)
				require.Equal(t, "application/json", res.header.Get("Content-Type"))
				golden(t, tt.golden, res.body)
				require.EqualValues(t, i+1, s.Calls(tt.endpoint))
			}
			require.EqualValues(t, 2, s.Total())
		})
	}
}

// TestDocumentedExamples checks the records the upstream documentation shows
// come back exactly as documented.
func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"project FLASH", "project?code=FLASH", `[{"code":"FLASH","active":true,"start_date":"2000-01-01","end_date":"2099-12-31","code_client":"DC999"}]`},
		{"enni CN012345", "enni/?reference=CN012345", `[{"Code":"720","name":"client","short_name":"DC123","reference":"CN012345","label":"Collecte Nationale Entreprise","offer":"BPEA","dsp":"OXO","delivery_mode":"National","active":true}]`},
		{"billing site AUX00", "billing_site/AUX00/", `{"code":"AUX00","description":"COVAGE INFRA"}`},
		{"terminate reasons", "terminate_reason/", `{"terminate_reasons":["Cessation d'activité","Changement d'Operateur d'Infrastructure","Déménagement sans reprise de lien COVAGE","Déménagement avec reprise de lien COVAGE","Autres motifs, précisez en commentaire"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, ts.URL+api+tt.path)
			require.Equal(t, http.StatusOK, res.status)
			require.JSONEq(t, tt.want, string(res.body))
		})
	}
	t.Run("business", func(t *testing.T) {
		res := get(t, ts.URL+api+"business_code/")
		require.Equal(t, http.StatusOK, res.status)
		got := decode[[]map[string]any](t, res.body)
		require.Contains(t, got, map[string]any{
			"modification_date": "2022-01-14T13:57:04Z",
			"code":              "AFAUX01234567890",
			"label":             "Affaire [Name client]-[Enseigne]",
		})
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil)
	tests := []struct {
		name     string
		path     string
		endpoint string // counted endpoint, if any
	}{
		{"unknown billing site", api + "billing_site/ZZZ99/", "billing_site"},
		{"unknown billing site without slash", api + "billing_site/ZZZ99", "billing_site"},
		{"billing site code is case sensitive", api + "billing_site/aux00", "billing_site"},
		{"billing site without code", api + "billing_site/", ""},
		{"unknown endpoint", api + "nope", ""},
		{"api root", api, ""},
		{"site root", "/", ""},
		{"project detail", api + "project/FLASH/", ""},
		{"double trailing slash", api + "project//", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Calls("billing_site")
			res := get(t, ts.URL+tt.path)
			require.Equal(t, http.StatusNotFound, res.status)
			require.Equal(t, "application/json", res.header.Get("Content-Type"))
			require.JSONEq(t, `{"detail":"Not found."}`, string(res.body))
			if tt.endpoint == "billing_site" {
				require.Equal(t, before+1, s.Calls("billing_site"))
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			res := do(t, method, ts.URL+api+"project/", nil)
			require.Equal(t, http.StatusMethodNotAllowed, res.status)
			require.Equal(t, http.MethodGet, res.header.Get("Allow"))
			require.JSONEq(t, `{"detail":"Method \"`+method+`\" not allowed."}`, string(res.body))
		})
	}
	require.EqualValues(t, 4, s.Calls("project"))
}

func TestProjectFilters(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil)
	all := codes(demo.Sample().Projects)
	tests := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"code=FLASH", []string{"FLASH"}},
		{"code=flash", []string{}},
		{"code=NOPE", []string{}},
		{"active=false", []string{"PRJ-DC123-2018"}},
		{"active=False", []string{"PRJ-DC123-2018"}},
		{"active=0", []string{"PRJ-DC123-2018"}},
		{"active=true", without(all, "PRJ-DC123-2018")},
		{"active=True", without(all, "PRJ-DC123-2018")},
		{"active=1", without(all, "PRJ-DC123-2018")},
		{"code=FLASH&active=true", []string{"FLASH"}},
		{"code=FLASH&active=false", []string{}},
		{"code=", all},                              // empty values do not filter
		{"code_client=DC999", all},                  // unknown parameters are ignored
		{"code=NOPE&code=FLASH", []string{"FLASH"}}, // the last value wins
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for _, suffix := range []string{"", "/"} {
				res := get(t, ts.URL+api+"project"+suffix+"?"+tt.query)
				require.Equal(t, http.StatusOK, res.status, "%s", res.body)
				require.Equal(t, tt.want, codes(decode[[]demo.Project](t, res.body)))
			}
		})
	}
}

func TestEnniFilters(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil)
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"documented example", url.Values{"offer": {"BPEA"}, "reference": {"CN001366"}}, []string{"CN001366"}},
		{"reference", url.Values{"reference": {"CN012345"}}, []string{"CN012345"}},
		{"name with accents", url.Values{"name": {"Réseaux du Sud"}}, []string{"CN007890", "CN007891", "CN007892"}},
		{"short_name", url.Values{"short_name": {"DC555"}}, []string{"CN005550", "CN005551", "CN005552"}},
		{"inactive", url.Values{"active": {"false"}}, []string{"CN012347", "CN001369", "CN005551"}},
		{"offer BPE", url.Values{"offer": {"BPE"}}, []string{"CN012346", "CN012347", "CN001367", "CN001369", "CN007891", "CN009991", "CN005550"}},
		{"dsp", url.Values{"dsp": {"OXO"}}, []string{"CN012345", "CN001368", "CN007892", "CN009990", "CN005552"}},
		{"delivery_mode", url.Values{"delivery_mode": {"National"}}, []string{"CN012345", "CN012346", "CN001368", "CN007892", "CN009990", "CN005552"}},
		{"delivery_mode with accent", url.Values{"delivery_mode": {"Régional"}, "short_name": {"DC123"}}, []string{"CN012347", "CN012348"}},
		{"combined", url.Values{"offer": {"BPEA"}, "active": {"True"}, "short_name": {"DC123"}}, []string{"CN012345", "CN012348"}},
		{"no match", url.Values{"dsp": {"oxo"}}, []string{}},
		{"unknown parameter", url.Values{"Code": {"720"}}, references(demo.Sample().Ennis)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, suffix := range []string{"", "/"} {
				res := get(t, ts.URL+api+"enni"+suffix+"?"+tt.query.Encode())
				require.Equal(t, http.StatusOK, res.status, "%s", res.body)
				require.Equal(t, tt.want, references(decode[[]demo.Enni](t, res.body)))
			}
		})
	}
}

func TestInvalidBoolean(t *testing.T) {
	t.Parallel()
	_, ts := start(t, nil, demo.WithPageSize(5))
	for _, path := range []string{"project?active=yes", "project/?active=TRUE", "enni?active=2", "enni/?offer=BPEA&active=vrai"} {
		t.Run(path, func(t *testing.T) {
			res := get(t, ts.URL+api+path)
			require.Equal(t, http.StatusBadRequest, res.status)
			require.Equal(t, "application/json", res.header.Get("Content-Type"))
			require.Contains(t, decode[map[string][]string](t, res.body), "active")
		})
	}
}

// envelope is Django REST Framework's pagination envelope.
type envelope[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// follow reads every page from first, checking the envelope on the way, and
// returns the results in order.
func follow[T any](t *testing.T, first string, wantCount int) []T {
	t.Helper()
	var all []T
	prev := ""
	for next, page := first, 1; next != ""; page++ {
		res := get(t, next)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", next, res.body)
		env := decode[envelope[T]](t, res.body)
		require.Equal(t, wantCount, env.Count)
		require.NotNil(t, env.Results, "results must be an array, never null")
		if page == 1 {
			require.Nil(t, env.Previous)
		} else {
			require.NotNil(t, env.Previous)
			require.Equal(t, prev, *env.Previous)
		}
		all = append(all, env.Results...)
		prev = next
		next = ""
		if env.Next != nil {
			next = *env.Next
		}
		require.Less(t, page, 1000, "pagination does not end")
	}
	require.Len(t, all, wantCount)
	return all
}

func TestPagination(t *testing.T) {
	t.Parallel()
	ds := demo.Generate(23, 42, 4)
	_, ts := start(t, ds, demo.WithPageSize(5))

	t.Run("unfiltered projects", func(t *testing.T) {
		got := follow[demo.Project](t, ts.URL+api+"project/", 23)
		require.Equal(t, ds.Projects, got)
	})
	t.Run("without trailing slash", func(t *testing.T) {
		got := follow[demo.Project](t, ts.URL+api+"project", 23)
		require.Equal(t, ds.Projects, got)
	})
	t.Run("filtered projects keep the filter in next", func(t *testing.T) {
		got := follow[demo.Project](t, ts.URL+api+"project/?active=true", 21)
		for _, p := range got {
			require.True(t, p.Active)
		}
	})
	t.Run("filtered ennis", func(t *testing.T) {
		// Client C0002 owns doors 1, 5, 9, ..., 41: all odd, so all BPEA.
		got := follow[demo.Enni](t, ts.URL+api+"enni/?offer=BPEA&short_name=C0002", 11)
		want := make([]string, 0, 11)
		for i := 1; i <= 41; i += 4 {
			want = append(want, fmt.Sprintf("CN%06d", i))
		}
		require.Equal(t, want, references(got))
	})
	t.Run("businesses", func(t *testing.T) {
		got := follow[demo.Business](t, ts.URL+api+"business_code/", 100)
		require.Equal(t, ds.Businesses, got)
	})
	t.Run("next URL", func(t *testing.T) {
		res := get(t, ts.URL+api+"enni/?page=2&offer=BPE")
		env := decode[envelope[demo.Enni]](t, res.body)
		require.Equal(t, 21, env.Count)
		require.Equal(t, ts.URL+api+"enni/?offer=BPE&page=3", *env.Next)
		require.Equal(t, ts.URL+api+"enni/?offer=BPE", *env.Previous)
	})
	t.Run("last page", func(t *testing.T) {
		res := get(t, ts.URL+api+"project/?page=last")
		env := decode[envelope[demo.Project]](t, res.body)
		require.Nil(t, env.Next)
		require.Equal(t, ds.Projects[20:], env.Results)
	})
	t.Run("reasons are never paginated", func(t *testing.T) {
		res := get(t, ts.URL+api+"change_reason/")
		require.JSONEq(t, mustJSON(t, map[string][]string{"change_reasons": ds.ChangeReasons}), string(res.body))
	})
	for _, page := range []string{"0", "6", "-1", "abc"} {
		t.Run("invalid page "+page, func(t *testing.T) {
			res := get(t, ts.URL+api+"project/?page="+page)
			require.Equal(t, http.StatusNotFound, res.status)
			require.JSONEq(t, `{"detail":"Invalid page."}`, string(res.body))
		})
	}
}

func TestPaginationEmptyList(t *testing.T) {
	t.Parallel()
	_, ts := start(t, demo.Generate(0, 0, 1), demo.WithPageSize(10))
	res := get(t, ts.URL+api+"project/")
	require.Equal(t, http.StatusOK, res.status)
	require.JSONEq(t, `{"count":0,"next":null,"previous":null,"results":[]}`, string(res.body))
	res = get(t, ts.URL+api+"enni/?offer=BPEA")
	require.JSONEq(t, `{"count":0,"next":null,"previous":null,"results":[]}`, string(res.body))
}

func TestEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	_, ts := start(t, &demo.Dataset{})
	for _, path := range []string{"project/", "enni/", "business_code/", "project/?active=true"} {
		res := get(t, ts.URL+api+path)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, "[]", string(res.body), path)
	}
	res := get(t, ts.URL+api+"site_connection/")
	require.JSONEq(t, `{"available_site_connection_types":[]}`, string(res.body))
}

// TestPaginationBehindPrefix mounts the server under a path prefix, as
// client tests do to catch absolute URLs, and checks next links keep it.
func TestPaginationBehindPrefix(t *testing.T) {
	t.Parallel()
	ds := demo.Generate(12, 0, 2)
	mux := http.NewServeMux()
	mux.Handle("/covage/", http.StripPrefix("/covage", demo.New(ds, demo.WithPageSize(5))))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	res := get(t, ts.URL+"/covage"+api+"project/")
	env := decode[envelope[demo.Project]](t, res.body)
	require.Equal(t, ts.URL+"/covage"+api+"project/?page=2", *env.Next)
	require.Equal(t, ds.Projects, follow[demo.Project](t, ts.URL+"/covage"+api+"project/", 12))
}

func TestCountersUnderConcurrency(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil, demo.WithLatency(30*time.Millisecond))
	const n = 10
	paths := map[string]string{
		"project":      "project/",
		"enni":         "enni?offer=BPEA",
		"billing_site": "billing_site/AUX0", // completed with a digit below
	}
	statuses := make(chan int, 3*n)
	var wg sync.WaitGroup
	for endpoint, path := range paths {
		for i := range n {
			wg.Go(func() {
				p := path
				if endpoint == "billing_site" {
					p += string(rune('0' + i)) // AUX06..AUX09 do not exist: 404s count too
				}
				res, err := testClient.Get(ts.URL + api + p)
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			})
		}
	}
	get(t, ts.URL+"/unknown") // not counted
	wg.Wait()
	close(statuses)
	notFound := 0
	for status := range statuses {
		require.Contains(t, []int{http.StatusOK, http.StatusNotFound}, status)
		if status == http.StatusNotFound {
			notFound++
		}
	}
	require.Equal(t, 4, notFound)

	for endpoint := range paths {
		require.EqualValues(t, n, s.Calls(endpoint), endpoint)
		require.Greater(t, s.MaxInFlight(endpoint), int64(1), endpoint)
		require.LessOrEqual(t, s.MaxInFlight(endpoint), int64(n), endpoint)
	}
	require.EqualValues(t, 3*n, s.Total())
	require.Zero(t, s.Calls("change_reason"))
	require.Zero(t, s.Calls("no such endpoint"))
	require.Zero(t, s.MaxInFlight("no such endpoint"))

	s.Reset()
	for _, endpoint := range []string{"project", "enni", "billing_site", "token"} {
		require.Zero(t, s.Calls(endpoint))
		require.Zero(t, s.MaxInFlight(endpoint))
	}
	require.Zero(t, s.Total())

	get(t, ts.URL+api+"project")
	require.EqualValues(t, 1, s.Calls("project"))
	require.EqualValues(t, 1, s.MaxInFlight("project"))
	require.EqualValues(t, 1, s.Total())
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	_, ts := start(t, nil, demo.WithLatency(latency))

	t.Run("data requests wait", func(t *testing.T) {
		for _, path := range []string{"project/", "billing_site/AUX00", "terminate_reason"} {
			begin := time.Now()
			res := get(t, ts.URL+api+path)
			require.Equal(t, http.StatusOK, res.status)
			require.GreaterOrEqual(t, time.Since(begin), latency, path)
		}
	})
	t.Run("a cancelled request stops waiting", func(t *testing.T) {
		slow := demo.New(nil, demo.WithLatency(10*time.Second))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, api+"project/", nil)
		begin := time.Now()
		slow.ServeHTTP(httptest.NewRecorder(), req)
		require.Less(t, time.Since(begin), time.Second)
		require.EqualValues(t, 1, slow.Calls("project"))
	})
	t.Run("client timeout", func(t *testing.T) {
		slow, ts := start(t, nil, demo.WithLatency(10*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+api+"enni/", nil)
		require.NoError(t, err)
		_, err = testClient.Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Eventually(t, func() bool { return slow.Calls("enni") == 1 }, time.Second, 5*time.Millisecond)
	})
	t.Run("token requests do not wait", func(t *testing.T) {
		slow, ts := start(t, nil, demo.WithLatency(10*time.Second))
		begin := time.Now()
		tok := passwordGrant(t, ts.URL, "anyone", "anything")
		require.NotEmpty(t, tok.AccessToken)
		require.Less(t, time.Since(begin), time.Second)
		require.Zero(t, slow.Total())
	})
}

func TestFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      demo.Fault
		wantBody   string
		wantRetry  string
		wantStatus int
	}{
		{"default body", demo.Fault{Status: http.StatusServiceUnavailable}, `{"detail":"Service Unavailable"}`, "", 503},
		{"retry after", demo.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"}, `{"detail":"Too Many Requests"}`, "2", 429},
		{"custom body", demo.Fault{Status: http.StatusBadGateway, Body: `{"detail":"upstream down"}`}, `{"detail":"upstream down"}`, "", 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, nil)
			s.SetFault(tt.fault)
			for _, path := range []string{"project/", "enni", "billing_site/AUX00/", "site_connection"} {
				res := get(t, ts.URL+api+path)
				require.Equal(t, tt.wantStatus, res.status)
				require.Equal(t, tt.wantRetry, res.header.Get("Retry-After"))
				require.Equal(t, "application/json", res.header.Get("Content-Type"))
				require.JSONEq(t, tt.wantBody, string(res.body))
			}
			require.EqualValues(t, 4, s.Total(), "faulted requests are counted")

			tok := passwordGrant(t, ts.URL, "u", "p")
			require.NotEmpty(t, tok.AccessToken, "the token endpoint is never faulted")

			s.SetFault(demo.Fault{})
			require.Equal(t, http.StatusOK, get(t, ts.URL+api+"project/").status)
		})
	}
	t.Run("limited to some requests", func(t *testing.T) {
		t.Parallel()
		s, ts := start(t, nil)
		s.SetFault(demo.Fault{Status: http.StatusInternalServerError, Times: 2})
		var got []int
		for range 4 {
			got = append(got, get(t, ts.URL+api+"project/").status)
		}
		require.Equal(t, []int{500, 500, 200, 200}, got)
	})
}

func TestSetDataset(t *testing.T) {
	t.Parallel()
	s, ts := start(t, nil)
	require.Len(t, decode[[]demo.Project](t, get(t, ts.URL+api+"project/").body), len(demo.Sample().Projects))

	s.SetDataset(demo.Generate(3, 0, 1))
	require.Equal(t, []string{"P00001", "P00002", "P00003"}, codes(decode[[]demo.Project](t, get(t, ts.URL+api+"project/").body)))
	require.Equal(t, http.StatusNotFound, get(t, ts.URL+api+"billing_site/AUX00").status)
	require.Equal(t, http.StatusOK, get(t, ts.URL+api+"billing_site/BS0200").status)
}

func codes(ps []demo.Project) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

func references(es []demo.Enni) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Reference)
	}
	return out
}

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// FuzzServeHTTP feeds arbitrary paths and queries to the server: every
// answer must be JSON with a status the upstream can send.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range [][2]string{
		{api + "project/", "active=true"},
		{api + "enni", "offer=BPEA&reference=CN001366"},
		{api + "enni/", "active=maybe"},
		{api + "billing_site/AUX00/", ""},
		{api + "billing_site/%2F/", ""},
		{api + "project/", "page=2"},
		{api + "business_code", "page=last"},
		{"/nope", "x=%zz"},
		{strings.Repeat("/", 3), ""},
	} {
		f.Add(seed[0], seed[1])
	}
	plain := demo.New(nil)
	paged := demo.New(demo.Generate(7, 9, 2), demo.WithPageSize(3))
	f.Fuzz(func(t *testing.T, path, query string) {
		for _, s := range []*demo.Server{plain, paged} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path, req.URL.RawQuery = path, query
			req.RequestURI = req.URL.RequestURI()
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			require.Contains(t, []int{200, 400, 404}, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			decode[any](t, rec.Body.Bytes())
		}
	})
}

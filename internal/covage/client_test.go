package covage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "valid", cfg: Config{BaseURL: "https://api.covage.com"}},
		{name: "valid with prefix and slash", cfg: Config{BaseURL: "http://localhost:8080/covage/"}},
		{name: "empty", cfg: Config{}, wantErr: "scheme"},
		{name: "relative", cfg: Config{BaseURL: "/api"}, wantErr: "scheme"},
		{name: "other scheme", cfg: Config{BaseURL: "ftp://api.covage.com"}, wantErr: "scheme"},
		{name: "no host", cfg: Config{BaseURL: "https://"}, wantErr: "host"},
		{name: "userinfo", cfg: Config{BaseURL: "https://bob:s3cret@api.covage.com"}, wantErr: "credentials"},
		{name: "query", cfg: Config{BaseURL: "https://api.covage.com?key=s3cret"}, wantErr: "query"},
		{name: "unparsable", cfg: Config{BaseURL: "https://api.covage.com/%zz?s3cret"}, wantErr: "not a valid url"},
		{name: "negative timeout", cfg: Config{BaseURL: "https://api.covage.com", Timeout: -1}, wantErr: "timeout"},
		{name: "negative pages", cfg: Config{BaseURL: "https://api.covage.com", MaxPages: -1}, wantErr: "pages"},
		{
			name:    "bad token url",
			cfg:     Config{BaseURL: "https://api.covage.com", Auth: PasswordAuth("https://kc:s3cret@sso/token", "api-client", "alice", "pw")},
			wantErr: "token url",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{BaseURL: "https://api.covage.com/"})
	require.NoError(t, err)
	require.Equal(t, defaultTimeout, c.timeout)
	require.Equal(t, defaultUserAgent, c.userAgent)
	require.Equal(t, defaultMaxPages, c.maxPages)
	require.Equal(t, "https://api.covage.com", c.baseURL)
	require.NotSame(t, http.DefaultClient, c.hc)
	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok, "own *http.Transport expected")
	require.NotSame(t, http.DefaultTransport, tr)

	// A caller's client is copied, not modified.
	mine := &http.Client{Timeout: time.Minute}
	c, err = New(Config{BaseURL: "https://api.covage.com", HTTPClient: mine})
	require.NoError(t, err)
	require.NotSame(t, mine, c.hc)
	require.Nil(t, mine.CheckRedirect)
	require.Equal(t, time.Minute, c.hc.Timeout)
}

func TestEndpoints(t *testing.T) {
	u := newUpstream(t)
	u.handle("project", func(w http.ResponseWriter, r *http.Request) { serve(200, u.golden(t, "projects.json"))(w, r) })
	u.handle("enni/", func(w http.ResponseWriter, r *http.Request) {
		file := map[string]string{"": "enni_page1.json", "2": "enni_page2.json", "3": "enni_page3.json"}[r.URL.Query().Get("page")]
		serve(200, u.golden(t, file))(w, r)
	})
	u.handle("business_code", func(w http.ResponseWriter, r *http.Request) { serve(200, u.golden(t, "business.json"))(w, r) })
	u.handle("billing_site/AUX00/", func(w http.ResponseWriter, r *http.Request) { serve(200, u.golden(t, "billing_site.json"))(w, r) })
	u.handle("terminate_reason/", func(w http.ResponseWriter, r *http.Request) {
		serve(200, u.golden(t, "terminate_reasons.json"))(w, r)
	})
	u.handle("change_reason/", func(w http.ResponseWriter, r *http.Request) { serve(200, u.golden(t, "change_reasons.json"))(w, r) })
	u.handle("site_connection/", func(w http.ResponseWriter, r *http.Request) {
		serve(200, u.golden(t, "site_connection.json"))(w, r)
	})
	var drift driftRecorder
	c := newClient(t, u, func(cfg *Config) { cfg.OnDrift = drift.record })
	ctx := context.Background()

	tests := []struct {
		name      string
		path      string
		wantCalls int
		call      func() (any, error)
		want      any
	}{
		{
			name: "projects", path: "project", wantCalls: 1,
			call: func() (any, error) { return c.Projects(ctx, domain.ProjectFilter{}) },
			want: []*domain.Project{
				{Code: "FLASH", Active: true, StartDate: ptr(domain.Date("2000-01-01")), EndDate: ptr(domain.Date("2099-12-31")), ClientCode: ptr("DC999")},
				{Code: "SLOW", StartDate: ptr(domain.Date("2021-03-04"))},
				{Code: "NODATES"},
			},
		},
		{
			name: "ennis over three pages", path: "enni/", wantCalls: 3,
			call: func() (any, error) { return c.Ennis(ctx, domain.EnniFilter{}) },
			want: []*domain.Enni{
				{
					Code: ptr("720"), Name: ptr("client"), ShortName: ptr("DC123"), Reference: "CN012345",
					Label: ptr("Collecte Nationale Entreprise"), Offer: ptr(domain.OfferBPEA), Dsp: ptr("OXO"),
					DeliveryMode: ptr("National"), Active: true,
				},
				{
					Code: ptr("721"), Name: ptr("client"), ShortName: ptr("DC123"), Reference: "CN000002",
					Label: ptr("Collecte Régionale"), Offer: ptr(domain.OfferBPE), Dsp: ptr("OXO"),
					DeliveryMode: ptr("Régional"), Active: true,
				},
				{Reference: "CN000003"},
				{Reference: "CN000004", Code: ptr("722"), Active: true},
			},
		},
		{
			name: "businesses", path: "business_code", wantCalls: 1,
			call: func() (any, error) { return c.Businesses(ctx) },
			want: []*domain.Business{
				{Code: "AFAUX01234567890", Label: ptr("Affaire [Name client]-[Enseigne]"), ModificationDate: ptr(time.Date(2022, 1, 14, 13, 57, 4, 0, time.UTC))},
				{Code: "AFF2", ValidityEndDate: ptr(time.Date(2030, 6, 30, 0, 0, 0, 0, time.UTC)), Status: ptr(3)},
				{
					Code:             "AFF3",
					ModificationDate: ptr(time.Date(2022, 1, 14, 13, 57, 4, 123456000, time.FixedZone("", 3600))),
					ValidityEndDate:  ptr(time.Date(2030, 6, 30, 0, 0, 0, 0, time.FixedZone("", 2*3600))),
					Status:           ptr(2),
				},
			},
		},
		{
			name: "billing site", path: "billing_site/AUX00/", wantCalls: 1,
			call: func() (any, error) { return c.BillingSite(ctx, "AUX00") },
			want: &domain.BillingSite{Code: "AUX00", Description: ptr("COVAGE INFRA")},
		},
		{
			name: "terminate reasons", path: "terminate_reason/", wantCalls: 1,
			call: func() (any, error) { return c.TerminateReasons(ctx) },
			want: []*domain.TerminateReason{
				{Code: ptr(domain.TerminateBusinessClosure), Label: "Cessation d'activité"},
				{Code: ptr(domain.TerminateInfrastructureOperatorChange), Label: "Changement d'Operateur d'Infrastructure"},
				{Code: ptr(domain.TerminateMoveWithoutCovageLink), Label: "Déménagement sans reprise de lien COVAGE"},
				{Code: ptr(domain.TerminateMoveWithCovageLink), Label: "Déménagement avec reprise de lien COVAGE"},
				{Code: ptr(domain.TerminateOther), Label: "Autres motifs, précisez en commentaire"},
			},
		},
		{
			name: "change reasons", path: "change_reason/", wantCalls: 1,
			call: func() (any, error) { return c.ChangeReasons(ctx) },
			want: []*domain.ChangeReason{
				{Code: ptr(domain.ChangeUpgrade), Label: "Upgrade (Changement de débit)"},
				{Code: ptr(domain.ChangeDowngrade), Label: "Downgrade (Changement de débit)"},
				{Code: ptr(domain.ChangeCollectionDoorChange), Label: "Modification de Porte de Collecte (principale et/ou sécurisation)"},
				{Code: ptr(domain.ChangeServiceOptionsChange), Label: "Modification des options du service (ajout, suppression, modification)"},
				{Code: ptr(domain.ChangeOther), Label: "Autres demandes de modifications"},
			},
		},
		{
			name: "site connection types", path: "site_connection/", wantCalls: 1,
			call: func() (any, error) { return c.SiteConnectionTypes(ctx) },
			want: []*domain.SiteConnectionType{
				{Code: ptr(domain.SiteStandard), Label: "Standard ou No-catégorisé"},
				{Code: ptr(domain.SiteShoppingCenter), Label: "Centre commercial"},
				{Code: ptr(domain.SiteDatacenter), Label: "Datacenter"},
				{Code: ptr(domain.SiteBusinessPark), Label: "Zone d'activité ZA"},
				{Code: ptr(domain.SiteAirport), Label: "Aéroport"},
				{Code: ptr(domain.SiteMaritimeZone), Label: "Zone maritime"},
				{Code: ptr(domain.SiteHealthCenter), Label: "Centre de santé ou hôpital"},
				{Code: ptr(domain.SiteHighSecurity), Label: "Etablissement haute sécurité"},
				{Code: ptr(domain.SiteHeritage), Label: "Etablissement patrimoine"},
				{Code: ptr(domain.SitePrison), Label: "Prison"},
				{Code: ptr(domain.SiteCemetery), Label: "Cimetière"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := u.count(tt.path)
			got, err := tt.call()
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantCalls, u.count(tt.path)-before)
			req := u.last(t)
			require.Equal(t, defaultUserAgent, req.Header.Get("User-Agent"))
			require.Equal(t, "application/json", req.Header.Get("Accept"))
			require.Empty(t, req.Header.Get("Authorization"))
		})
	}

	// Drift seen in the golden files, each reported once.
	require.ElementsMatch(t, []string{
		"offer=FTTH",
		"datetime=not a date",
		"missing_key=project",
		"missing_key=enni",
		"missing_key=business_code",
	}, drift.list())
}

func TestQueryParameters(t *testing.T) {
	u := newUpstream(t)
	u.handle("project", serve(200, []byte(`[]`)))
	u.handle("enni/", serve(200, []byte(`[]`)))
	c := newClient(t, u)
	ctx := context.Background()

	tests := []struct {
		name      string
		call      func() error
		wantPath  string
		wantQuery string
	}{
		{
			name:     "projects without filter",
			call:     func() error { _, err := c.Projects(ctx, domain.ProjectFilter{}); return err },
			wantPath: "project", wantQuery: "",
		},
		{
			name: "project code and active",
			call: func() error {
				_, err := c.Projects(ctx, domain.ProjectFilter{Code: ptr("FLASH"), Active: ptr(true)})
				return err
			},
			wantPath: "project", wantQuery: "active=true&code=FLASH",
		},
		{
			name:     "project inactive",
			call:     func() error { _, err := c.Projects(ctx, domain.ProjectFilter{Active: ptr(false)}); return err },
			wantPath: "project", wantQuery: "active=false",
		},
		{
			name:     "ennis without filter",
			call:     func() error { _, err := c.Ennis(ctx, domain.EnniFilter{}); return err },
			wantPath: "enni/", wantQuery: "",
		},
		{
			name: "every enni filter",
			call: func() error {
				_, err := c.Ennis(ctx, domain.EnniFilter{
					Reference: ptr("CN012345"), Name: ptr("client"), ShortName: ptr("DC123"), Active: ptr(false),
					Offer: ptr(domain.OfferBPEA), Dsp: ptr("OXO"), DeliveryMode: ptr("National"),
				})
				return err
			},
			wantPath:  "enni/",
			wantQuery: "active=false&delivery_mode=National&dsp=OXO&name=client&offer=BPEA&reference=CN012345&short_name=DC123",
		},
		{
			name:      "enni values are escaped",
			call:      func() error { _, err := c.Ennis(ctx, domain.EnniFilter{Name: ptr("a b&c=d")}); return err },
			wantPath:  "enni/",
			wantQuery: "name=a+b%26c%3Dd",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.call())
			req := u.last(t)
			require.Equal(t, basePath+apiPath+tt.wantPath, req.URL.Path)
			require.Equal(t, tt.wantQuery, req.URL.RawQuery)
		})
	}
}

func TestUserAgentAndStaticToken(t *testing.T) {
	u := newUpstream(t)
	u.handle("business_code", serve(200, []byte(`[]`)))
	c := newClient(t, u, func(cfg *Config) {
		cfg.UserAgent = "gateway-test/1"
		cfg.Auth = StaticToken("static-s3cret")
	})
	_, err := c.Businesses(context.Background())
	require.NoError(t, err)
	req := u.last(t)
	require.Equal(t, "gateway-test/1", req.Header.Get("User-Agent"))
	require.Equal(t, "Bearer static-s3cret", req.Header.Get("Authorization"))
}

func TestDecodeShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []*domain.Project
	}{
		{name: "bare array", body: `[{"code":"A","active":true}]`, want: []*domain.Project{{Code: "A", Active: true}}},
		{name: "empty array", body: `[]`, want: []*domain.Project{}},
		{name: "envelope", body: `{"count":1,"next":null,"previous":null,"results":[{"code":"A"}]}`, want: []*domain.Project{{Code: "A"}}},
		{name: "envelope, results first", body: `{"results":[{"code":"A"}],"count":1}`, want: []*domain.Project{{Code: "A"}}},
		{name: "envelope with empty next", body: `{"next":"","results":[{"code":"A"}]}`, want: []*domain.Project{{Code: "A"}}},
		{name: "envelope with null results", body: `{"count":0,"results":null}`, want: []*domain.Project{}},
		{name: "capitalised keys", body: `[{"Code":"A","Active":true,"Code_Client":"DC1"}]`, want: []*domain.Project{{Code: "A", Active: true, ClientCode: ptr("DC1")}}},
		{name: "null values and null record", body: `[{"code":"A","active":null,"start_date":null},null]`, want: []*domain.Project{{Code: "A"}}},
		{name: "numbers for strings", body: `[{"code":42,"active":1,"code_client":7}]`, want: []*domain.Project{{Code: "42", Active: true, ClientCode: ptr("7")}}},
		{name: "escaped strings", body: `[{"code":"A\u00e9\"","code_client":"x\ty"}]`, want: []*domain.Project{{Code: "Aé\"", ClientCode: ptr("x\ty")}}},
		{name: "objects where scalars belong", body: `[{"code":"A","active":{"x":1},"start_date":[1]}]`, want: []*domain.Project{{Code: "A"}}},
		{name: "blank key skipped", body: `[{"code":"  "},{"code":"B"}]`, want: []*domain.Project{{Code: "B"}}},
		{name: "odd count ignored", body: `{"count":"many","results":[{"code":"A"}]}`, want: []*domain.Project{{Code: "A"}}},
		{name: "huge count ignored", body: `{"count":1e12,"results":[{"code":"A"}]}`, want: []*domain.Project{{Code: "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t)
			u.handle("project", serve(200, []byte(tt.body)))
			got, err := newClient(t, u).Projects(context.Background(), domain.ProjectFilter{})
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReasonShapes(t *testing.T) {
	closure := ptr(domain.TerminateBusinessClosure)
	tests := []struct {
		name string
		body string
		want []*domain.TerminateReason
	}{
		{name: "documented object", body: `{"terminate_reasons":["Cessation d'activité"]}`, want: []*domain.TerminateReason{{Code: closure, Label: "Cessation d'activité"}}},
		{name: "bare array", body: `["Cessation d'activité"]`, want: []*domain.TerminateReason{{Code: closure, Label: "Cessation d'activité"}}},
		{name: "envelope of strings", body: `{"count":1,"next":null,"results":["Cessation d'activité"]}`, want: []*domain.TerminateReason{{Code: closure, Label: "Cessation d'activité"}}},
		{name: "extra keys, nulls and blanks", body: `{"version":2,"terminate_reasons":[null,"","Cessation d'activité",{"x":1}]}`, want: []*domain.TerminateReason{{Code: closure, Label: "Cessation d'activité"}}},
		{name: "empty", body: `{"terminate_reasons":[]}`, want: []*domain.TerminateReason{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t)
			u.handle("terminate_reason/", serve(200, []byte(tt.body)))
			got, err := newClient(t, u).TerminateReasons(context.Background())
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPagination(t *testing.T) {
	// page serves "page N of last", linking to the next one.
	page := func(u *upstream, last int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			n := r.URL.Query().Get("page")
			if n == "" {
				n = "1"
			}
			next := "null"
			if n < string(rune('0'+last)) {
				next = `"` + u.base() + apiPath + `enni/?page=` + string(rune(n[0]+1)) + `"`
			}
			serve(200, []byte(`{"count":3,"next":`+next+`,"results":[{"reference":"R`+n+`"}]}`))(w, r)
		}
	}
	t.Run("follows every page", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("enni/", page(u, 3))
		got, err := newClient(t, u).Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Equal(t, []*domain.Enni{{Reference: "R1"}, {Reference: "R2"}, {Reference: "R3"}}, got)
		require.Equal(t, 3, u.count("enni/"))
	})
	t.Run("exactly at the cap", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("enni/", page(u, 3))
		got, err := newClient(t, u, func(c *Config) { c.MaxPages = 3 }).Ennis(context.Background(), domain.EnniFilter{})
		require.NoError(t, err)
		require.Len(t, got, 3)
	})
	t.Run("cap exceeded", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("enni/", page(u, 3))
		_, err := newClient(t, u, func(c *Config) { c.MaxPages = 2 }).Ennis(context.Background(), domain.EnniFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
		require.Equal(t, 2, u.count("enni/"))
	})
	t.Run("a page linking to itself stops at the default cap", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("enni/", func(w http.ResponseWriter, r *http.Request) {
			serve(200, []byte(`{"next":"?page=1","results":[]}`))(w, r)
		})
		_, err := newClient(t, u).Ennis(context.Background(), domain.EnniFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
		require.Equal(t, defaultMaxPages, u.count("enni/"))
	})
	t.Run("next on another host is refused", func(t *testing.T) {
		other := newUpstream(t)
		u := newUpstream(t)
		u.handle("enni/", serve(200, []byte(`{"next":"`+other.base()+apiPath+`enni/?page=2","results":[]}`)))
		_, err := newClient(t, u, func(c *Config) { c.Auth = StaticToken("tok") }).Ennis(context.Background(), domain.EnniFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
		require.Zero(t, other.total())
	})
	t.Run("next that is not a link", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("enni/", serve(200, []byte(`{"next":3,"results":[]}`)))
		_, err := newClient(t, u).Ennis(context.Background(), domain.EnniFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
	})
}

func TestNextURL(t *testing.T) {
	c, err := New(Config{BaseURL: "https://api.covage.com/gw"})
	require.NoError(t, err)
	page, err := http.NewRequest(http.MethodGet, "https://api.covage.com/gw/api/v1/referential/enni/", nil)
	require.NoError(t, err)
	tests := []struct {
		next    string
		want    string
		wantErr bool
	}{
		{next: "https://api.covage.com/gw/api/v1/referential/enni/?page=2", want: "https://api.covage.com/gw/api/v1/referential/enni/?page=2"},
		{next: "http://api.covage.com/gw/api/v1/referential/enni/?page=2", want: "https://api.covage.com/gw/api/v1/referential/enni/?page=2"},
		{next: "https://API.covage.com:443/gw/x?page=2", want: "https://api.covage.com/gw/x?page=2"},
		{next: "https://u:p@api.covage.com/gw/x#frag", want: "https://api.covage.com/gw/x"},
		{next: "https://api.covage.com/gw", want: "https://api.covage.com/gw"},
		{next: "https://api.covage.com/x?page=2", wantErr: true},
		{next: "/other-app/api/v1/referential/enni/?page=2", wantErr: true},
		{next: "/gwx/api/v1/referential/enni/?page=2", wantErr: true},
		{next: "/gw/../admin/", wantErr: true},
		{next: "/gw/%2e%2e/admin/", wantErr: true},
		{next: "../../../../../admin/?page=2", wantErr: true},
		{next: "/gw/api/v1/referential/enni/?page=2", want: "https://api.covage.com/gw/api/v1/referential/enni/?page=2"},
		{next: "?page=2", want: "https://api.covage.com/gw/api/v1/referential/enni/?page=2"},
		{next: "https://evil.example/x", wantErr: true},
		{next: "https://api.covage.com.evil.example/x", wantErr: true},
		{next: "https://api.covage.com:8443/x", wantErr: true},
		{next: "//evil.example/x", wantErr: true},
		{next: "http://[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			got, err := c.nextURL(page.URL, tt.next)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRedirects(t *testing.T) {
	t.Run("trailing slash redirect is followed with the token", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("project", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"/?"+r.URL.RawQuery, http.StatusMovedPermanently)
		})
		u.handle("project/", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Query().Get("code") != "FLASH" {
				http.Error(w, "lost on the way", http.StatusTeapot)
				return
			}
			serve(200, []byte(`[{"code":"FLASH"}]`))(w, r)
		})
		c := newClient(t, u, func(c *Config) { c.Auth = StaticToken("tok") })
		got, err := c.Projects(context.Background(), domain.ProjectFilter{Code: ptr("FLASH")})
		require.NoError(t, err)
		require.Equal(t, []*domain.Project{{Code: "FLASH"}}, got)
		require.Equal(t, 1, u.count("project"))
		require.Equal(t, 1, u.count("project/"))
	})
	t.Run("redirect to another host is refused", func(t *testing.T) {
		other := newUpstream(t)
		other.handle("project", serve(200, []byte(`[]`)))
		u := newUpstream(t)
		// Go would keep Authorization here: same hostname, other port.
		u.handle("project", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.base()+apiPath+"project", http.StatusFound)
		})
		c := newClient(t, u, func(c *Config) { c.Auth = StaticToken("tok-s3cret") })
		_, err := c.Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
		require.Zero(t, other.total())
		require.NotContains(t, err.Error(), "tok-s3cret")
		require.NotContains(t, err.Error(), other.URL)
	})
	t.Run("redirect out of the base url's path is refused", func(t *testing.T) {
		for _, to := range []string{"/other-app/project", basePath + "/../other-app/project", basePath + "x/project"} {
			u := newUpstream(t)
			u.mux.HandleFunc("/other-app/", func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the token reached %s", r.URL.Path)
			})
			u.handle("project", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", to)
				w.WriteHeader(http.StatusFound)
			})
			c := newClient(t, u, func(c *Config) { c.Auth = StaticToken("tok-s3cret") })
			_, err := c.Projects(context.Background(), domain.ProjectFilter{})
			require.ErrorIs(t, err, ErrBadResponse, to)
		}
	})
	t.Run("redirect to another scheme is refused", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("project", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://"+r.Host+r.URL.Path+"/", http.StatusFound)
		})
		_, err := newClient(t, u).Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
	})
	t.Run("redirect loop", func(t *testing.T) {
		u := newUpstream(t)
		u.handle("project", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		})
		_, err := newClient(t, u).Projects(context.Background(), domain.ProjectFilter{})
		require.ErrorIs(t, err, ErrBadResponse)
		require.Equal(t, 10, u.count("project"))
	})
}

func TestBillingSite(t *testing.T) {
	u := newUpstream(t)
	u.mux.HandleFunc(basePath+apiPath+"billing_site/{code}/{$}", func(w http.ResponseWriter, r *http.Request) {
		switch code := r.PathValue("code"); code {
		case "AUX00":
			serve(200, []byte(`{"Code":"AUX00","description":"COVAGE INFRA","extra":[1]}`))(w, r)
		case "A/B C?":
			serve(200, []byte(`{"code":"A/B C?","description":null}`))(w, r)
		case "NOCODE":
			serve(200, []byte(`{"description":"no code"}`))(w, r)
		case "LIST":
			serve(200, []byte(`[{"code":"LIST"}]`))(w, r)
		case "NULL":
			serve(200, []byte(`null`))(w, r)
		case "EMPTY":
			serve(200, nil)(w, r)
		default:
			http.Error(w, `{"detail":"Not found."}`, http.StatusNotFound)
		}
	})
	var drift driftRecorder
	c := newClient(t, u, func(c *Config) { c.OnDrift = drift.record })
	tests := []struct {
		code     string
		want     *domain.BillingSite
		wantKind error
		wantPath string
	}{
		{code: "AUX00", want: &domain.BillingSite{Code: "AUX00", Description: ptr("COVAGE INFRA")}, wantPath: "/AUX00/"},
		{code: "A/B C?", want: &domain.BillingSite{Code: "A/B C?"}, wantPath: "/A%2FB%20C%3F/"},
		{code: "NOCODE", want: &domain.BillingSite{Code: "NOCODE", Description: ptr("no code")}},
		{code: "MISSING", wantKind: ErrNotFound},
		{code: "LIST", wantKind: ErrBadResponse},
		{code: "NULL", wantKind: ErrBadResponse},
		{code: "EMPTY", wantKind: ErrBadResponse},
		{code: "", wantKind: ErrNotFound},
		{code: "..", wantKind: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := c.BillingSite(context.Background(), tt.code)
			if tt.wantKind != nil {
				require.ErrorIs(t, err, tt.wantKind)
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, EndpointBillingSite, e.Endpoint)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			if tt.wantPath != "" {
				require.Equal(t, basePath+apiPath+"billing_site"+tt.wantPath, u.last(t).URL.EscapedPath())
			}
		})
	}
	require.Equal(t, []string{"missing_key=billing_site"}, drift.list())
}

func TestConcurrentCalls(t *testing.T) {
	u := newUpstream(t)
	u.handle("enni/", serve(200, []byte(`[{"reference":"R1","offer":"XX"}]`)))
	var drift driftRecorder
	c := newClient(t, u, func(c *Config) { c.OnDrift = drift.record })
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			got, err := c.Ennis(context.Background(), domain.EnniFilter{})
			if err != nil || len(got) != 1 {
				t.Errorf("got %v, %v", got, err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 20, u.count("enni/"))
	require.Equal(t, []string{"offer=XX"}, drift.list())
}

func TestUnreachableIsNotTimeout(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(Config{BaseURL: base, Logger: quietLogger()})
	require.NoError(t, err)
	_, err = c.Businesses(context.Background())
	require.ErrorIs(t, err, ErrUnavailable)
	require.False(t, errors.Is(err, ErrTimeout))
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Zero(t, e.StatusCode)
	require.NotContains(t, err.Error(), "http://", "no URL in the error text")
	require.True(t, strings.HasPrefix(err.Error(), "covage business_code: upstream failure: get request: "), err.Error())
}

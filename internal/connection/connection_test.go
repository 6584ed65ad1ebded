package connection

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/domain"
)

func ptr[T any](v T) *T { return &v }

// doors is a small list with accents, capitals, missing values and ties
// (several doors share a name, a label and a client), in Covage's order.
func doors() []*domain.Enni {
	d := func(ref, code, label, name, short string) *domain.Enni {
		e := &domain.Enni{Reference: ref}
		for _, f := range []struct {
			dst **string
			v   string
		}{{&e.Code, code}, {&e.Label, label}, {&e.Name, name}, {&e.ShortName, short}} {
			if f.v != "" {
				*f.dst = ptr(f.v)
			}
		}
		return e
	}
	return []*domain.Enni{
		d("CN0010", "720", "Collecte Régionale Bretagne", "Réseaux du Sud", "DC789"),
		d("CN0011", "721", "Porte de collecte Sécurisée", "client", "DC123"),
		d("CN0012", "", "Collecte Nationale Entreprise", "client", "DC123"),
		d("CN0013", "723", "COLLECTE REGIONALE ÎLE-DE-FRANCE", "Fibre Ouest Télécom", "DC456"),
		d("CN0014", "724", "", "client", ""),
		d("CN0015", "725", "Porte de collecte Sécurisée", "Flash Opérateur", "DC999"),
		d("cn0010", "726", "collecte régionale bretagne", "Réseaux du Sud", "DC789"),
		d("CN0017", "720", "Zone Île Sud", "Arbre Secret", "DC123"),
	}
}

func refs(list []*domain.Enni) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Reference
	}
	return out
}

func run(t *testing.T, ix *Index[domain.Enni], a Args) *Page[domain.Enni] {
	t.Helper()
	q, err := Parse(Ennis.Name, a)
	require.NoError(t, err)
	return Run(ix, q)
}

// TestSearch checks the contract's matching: folded terms, each a substring
// of some searched field. Each search runs on an index used once, which
// scans, and on one a store keeps, which uses its posting lists.
func TestSearch(t *testing.T) {
	cases := []struct {
		search string
		want   []string
	}{
		{"regionale", []string{"CN0010", "CN0013", "cn0010"}},                                  // accents and case
		{"RÉGIONALE", []string{"CN0010", "CN0013", "cn0010"}},                                  // in the search too
		{"île", []string{"CN0013", "CN0017"}},                                                  // ÎLE and Île
		{"bretagne sud", []string{"CN0010", "cn0010"}},                                         // label and name
		{"dc123 collecte", []string{"CN0011", "CN0012"}},                                       // shortName and label
		{"cn001", refs(doors())},                                                               // reference, folded
		{"72", []string{"CN0010", "CN0011", "CN0013", "CN0014", "CN0015", "cn0010", "CN0017"}}, // code, short term
		{"sécurisée porte 725", []string{"CN0015"}},
		{"bretagne-sud", nil},                  // a term never spans two fields
		{"xyz", nil},                           // no match
		{"bret", []string{"CN0010", "cn0010"}}, // both its grams are also in "arbre secret"
		{"collecte zzz", nil},                  // one term without a match
		{"  ", refs(doors())},                  // blank: everything
		{"ne\x00fl", nil},                      // a separator in a term matches no field
		{"e", []string{"CN0010", "CN0011", "CN0012", "CN0013", "CN0014", "CN0015", "cn0010", "CN0017"}},
	}
	for _, tc := range cases {
		t.Run(tc.search, func(t *testing.T) {
			for _, ix := range []*Index[domain.Enni]{NewIndex(Ennis, doors()), kept(Ennis, doors())} {
				p := run(t, ix, Args{Search: &tc.search})
				require.Equal(t, tc.want, nilIfEmpty(refs(p.Nodes)))
				require.Equal(t, len(tc.want), p.Total)
			}
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestSearchIndexAgreesWithScan compares the gram index with a plain scan
// over generated doors, for terms of every length and several terms.
func TestSearchIndexAgreesWithScan(t *testing.T) {
	list := generated(3000)
	ix := kept(Ennis, list)
	for _, s := range []string{"col", "n°12", "porte 7", "c0003 12", "1", "99", "collecte", "zzz", "client c0001", "°1"} {
		terms := Terms(s)
		var want []int32
		for i, e := range list {
			if bruteMatch(e, terms) {
				want = append(want, int32(i))
			}
		}
		require.Equal(t, want, nilIfEmpty32(ix.search(terms)), s)
	}
}

func nilIfEmpty32(s []int32) []int32 {
	if len(s) == 0 {
		return nil
	}
	return s
}

// bruteMatch is the contract's rule written out directly.
func bruteMatch(e *domain.Enni, terms []string) bool {
	for _, t := range terms {
		ok := false
		for _, f := range Ennis.Searched {
			ok = ok || strings.Contains(Fold(f(e)), t)
		}
		if !ok {
			return false
		}
	}
	return true
}

func generated(n int) []*domain.Enni {
	list := make([]*domain.Enni, n)
	for i := range list {
		c := fmt.Sprintf("C%04d", i%50+1)
		list[i] = &domain.Enni{
			Reference: fmt.Sprintf("CN%06d", i+1), Code: ptr(fmt.Sprint(i + 1)),
			Label: ptr(fmt.Sprintf("Porte de collecte n°%d", i+1)), Name: ptr("Client " + c), ShortName: ptr(c),
		}
	}
	return list
}

// TestOrder checks every order field of every connection in both
// directions against a stable sort of the folded values: ties keep
// Covage's order whatever the direction.
func TestOrder(t *testing.T) {
	testOrder(t, Ennis, doors(), func(e *domain.Enni) string { return e.Reference })
	projects := []*domain.Project{
		{Code: "B", ClientCode: ptr("DC1"), StartDate: ptr(domain.Date("2022-01-01"))},
		{Code: "a", ClientCode: ptr("DC2")},
		{Code: "É", ClientCode: ptr("DC1"), StartDate: ptr(domain.Date("2021-06-01")), EndDate: ptr(domain.Date("2030-01-01"))},
		{Code: "c", StartDate: ptr(domain.Date("2022-01-01")), EndDate: ptr(domain.Date("2030-01-01"))},
		{Code: "e", ClientCode: ptr("dc1")},
	}
	testOrder(t, Projects, projects, func(p *domain.Project) string { return p.Code })
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return &v
	}
	businesses := []*domain.Business{
		{Code: "AF2", Label: ptr("Affaire Nantes"), ModificationDate: at("2024-07-18T11:30:45Z")},
		{Code: "AF1", ModificationDate: at("2022-01-14T13:57:04Z")},
		{Code: "af2", Label: ptr("affaire nantes")},
		{Code: "AF0", Label: ptr("Affaire Lyon"), ModificationDate: at("2024-07-18T11:30:45Z")},
	}
	testOrder(t, Businesses, businesses, func(b *domain.Business) string { return b.Code })
}

func testOrder[T any](t *testing.T, spec *Spec[T], list []*T, key func(*T) string) {
	for field, value := range spec.Orders {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s %s desc=%v", spec.Name, field, desc), func(t *testing.T) {
				want := slices.Clone(list)
				slices.SortStableFunc(want, func(a, b *T) int {
					c := strings.Compare(Fold(value(a)), Fold(value(b)))
					if desc {
						return -c
					}
					return c
				})
				q, err := Parse(spec.Name, Args{Order: field, Desc: desc})
				require.NoError(t, err)
				p := Run(NewIndex(spec, list), q)
				require.Equal(t, keys(want, key), keys(p.Nodes, key))
				require.True(t, hasTies(want, value), "the data must have ties on %s", field)
			})
		}
	}
}

func keys[T any](list []*T, key func(*T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = key(x)
	}
	return out
}

func hasTies[T any](list []*T, value func(*T) string) bool {
	seen := map[string]bool{}
	for _, x := range list {
		v := Fold(value(x))
		if seen[v] {
			return true
		}
		seen[v] = true
	}
	return false
}

// kept returns the index of list as an Indexes store keeps it: searched
// through its posting lists.
func kept[T any](spec *Spec[T], list []*T) *Index[T] {
	ix := NewIndex(spec, list)
	ix.kept = true
	return ix
}

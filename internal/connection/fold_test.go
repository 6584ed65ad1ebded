package connection

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// TestFold checks the contract's folding on the cases where it differs from
// a naive lower-casing and from cases.Fold or a locale's collation.
func TestFold(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Régional", "regional"},
		{"REGIONAL", "regional"},
		{"Île-de-France", "ile-de-france"},
		{"Provence-Alpes-Côte d'Azur", "provence-alpes-cote d'azur"},
		{"CN012345", "cn012345"},
		{"already folded", "already folded"},
		{"ﬁbre", "fibre"},        // the ligature decomposes (NFKD)
		{"Å", "a"},               // U+212B ANGSTROM SIGN: A and a ring above
		{"İstanbul", "istanbul"}, // U+0130: I and a dot above, dropped
		{"Straße", "straße"},     // simple lower-case: ß stays (cases.Fold gives ss)
		{"ΣΊΣΥΦΟΣ", "σισυφοσ"},   // simple mapping: no final sigma
		{"n°12", "n°12"},         // ° has no decomposition
		{"x\u0308\u0301", "x"},   // combining marks alone are dropped
		{"\u0903", "\u0903"},     // a spacing mark (Mc) is kept
		{"２０２６", "2026"},         // full-width digits (NFKD)
		{"", ""},
		{"a\xffB", "a\uFFFDb"}, // invalid UTF-8, as strings.ToLower maps it
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, Fold(tc.in))
			require.Equal(t, tc.want, reference(tc.in))
		})
	}
}

// reference is the contract's folding written with x/text's transformers:
// slower, and the oracle Fold is checked against.
func reference(s string) string {
	out, _, err := transform.String(transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn))), s)
	if err != nil {
		panic(err)
	}
	return strings.ToLower(out)
}

// FuzzFold checks Fold against the reference on any valid UTF-8 text.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"Régional", "ﬁ", "İ", "Straße", "ABC", "\u0301a", "Ǆ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8Valid(s) {
			t.Skip()
		}
		if got, want := Fold(s), reference(s); got != want {
			t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestTerms(t *testing.T) {
	require.Equal(t, []string{"regionale", "ile"}, Terms("  Régionale\tÎLE \n"))
	require.Empty(t, Terms(" \t "))
	require.Empty(t, Terms(""))
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestEssentialTerms checks that repeated terms and terms inside others
// are dropped, longest first, since they cannot change a match.
func TestEssentialTerms(t *testing.T) {
	require.Equal(t, []string{"regionale", "bret"}, essential([]string{"bret", "reg", "regionale", "e", "bret", "gion"}))
	require.Empty(t, essential(nil))
}

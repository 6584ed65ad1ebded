// Package connection answers Relay connections over Covage's lists: it
// searches, orders and pages a list the loaders already hold, through an
// index built once per cached list version, and encodes the cursors.
//
// The behaviour is the public contract's (graph/connection.graphqls): a
// search is split on whitespace into terms, and a record matches when every
// folded term is a substring of one of its folded searched fields; an order
// sorts by the folded field, code point by code point, stable; a cursor
// names its record by sort value and key, not by offset.
package connection

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold folds s as the contract says: Unicode NFKD, then every mark of
// category Mn removed, then the simple lower-case mapping (strings.ToLower).
// "Régional" and "REGIONAL" both fold to "regional". Folded strings are
// compared byte by byte, which for UTF-8 is code point by code point.
func Fold(s string) string {
	ascii, upper := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if ascii {
		// NFKD leaves ASCII as it is and ASCII has no mark, so only the
		// case mapping can change it: the common case (codes, references)
		// costs one pass and, without capitals, no allocation.
		if !upper {
			return s
		}
		return strings.ToLower(s)
	}
	// One pass drops the marks and maps the case: strings.ToLower is
	// unicode.ToLower rune by rune (invalid bytes become U+FFFD either
	// way), which FuzzFold checks against the three steps done apart.
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Terms splits a search on whitespace and folds each term. A blank search
// has no terms, and matches everything.
func Terms(search string) []string {
	terms := strings.Fields(search)
	for i, t := range terms {
		terms[i] = Fold(t)
	}
	return terms
}

// essential returns the terms a match must be checked against, longest
// first: a term that is part of another (or repeats it) is matched
// whenever that one is, so it is dropped. This keeps a search of hundreds
// of short terms from costing hundreds of checks per record, and checks
// the most selective terms first.
func essential(terms []string) []string {
	sorted := slices.Clone(terms)
	slices.SortStableFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	out := sorted[:0]
	for _, t := range sorted {
		if !slices.ContainsFunc(out, func(kept string) bool { return strings.Contains(kept, t) }) {
			out = append(out, t)
		}
	}
	return out
}

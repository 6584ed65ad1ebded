package covage

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/covage/gateway/internal/domain"
)

// The reason endpoints return French labels only. These tables give each
// known label its stable code; they are read-only once built, and matched on
// normalizeLabel so that accents, case, apostrophes and spacing may drift.
var (
	terminateReasonCodes = labelIndex(map[string]domain.TerminateReasonCode{
		"Cessation d'activité":                     domain.TerminateBusinessClosure,
		"Changement d'Operateur d'Infrastructure":  domain.TerminateInfrastructureOperatorChange,
		"Déménagement sans reprise de lien COVAGE": domain.TerminateMoveWithoutCovageLink,
		"Déménagement avec reprise de lien COVAGE": domain.TerminateMoveWithCovageLink,
		"Autres motifs, précisez en commentaire":   domain.TerminateOther,
	})
	changeReasonCodes = labelIndex(map[string]domain.ChangeReasonCode{
		"Upgrade (Changement de débit)":                                          domain.ChangeUpgrade,
		"Downgrade (Changement de débit)":                                        domain.ChangeDowngrade,
		"Modification de Porte de Collecte (principale et/ou sécurisation)":      domain.ChangeCollectionDoorChange,
		"Modification des options du service (ajout, suppression, modification)": domain.ChangeServiceOptionsChange,
		"Autres demandes de modifications":                                       domain.ChangeOther,
	})
	siteConnectionCodes = labelIndex(map[string]domain.SiteConnectionTypeCode{
		"Standard ou No-catégorisé":    domain.SiteStandard,
		"Centre commercial":            domain.SiteShoppingCenter,
		"Datacenter":                   domain.SiteDatacenter,
		"Zone d'activité ZA":           domain.SiteBusinessPark,
		"Aéroport":                     domain.SiteAirport,
		"Zone maritime":                domain.SiteMaritimeZone,
		"Centre de santé ou hôpital":   domain.SiteHealthCenter,
		"Etablissement haute sécurité": domain.SiteHighSecurity,
		"Etablissement patrimoine":     domain.SiteHeritage,
		"Prison":                       domain.SitePrison,
		"Cimetière":                    domain.SiteCemetery,
	})
)

// labelIndex keys a label table by normalised label.
func labelIndex[C ~string](known map[string]C) map[string]C {
	index := make(map[string]C, len(known))
	for label, code := range known {
		index[normalizeLabel(label)] = code
	}
	return index
}

// normalizeLabel folds the differences a human editing upstream labels is
// likely to introduce: accents, typographic apostrophes, case and spacing.
// Apostrophes are mapped after decomposition, since some characters
// decompose into one.
func normalizeLabel(s string) string {
	// The chain is stateful, hence built per call.
	fold := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), runes.Map(apostrophe), norm.NFC)
	out := s
	if folded, _, err := transform.String(fold, s); err == nil {
		out = folded
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

// labelMemo remembers normalizeLabel's results for a Client, up to
// maxNormalized labels (an upstream sending ever new labels is not given
// the memory). A reason list holds a few dozen labels, read on every
// request when the shared cache is off, and building the Unicode transform
// chain was a fifth of such a request's CPU.
type labelMemo struct {
	m sync.Map // label -> normalised label
	n atomic.Int64
}

const maxNormalized = 4096

// normalize is normalizeLabel, remembered.
func (m *labelMemo) normalize(s string) string {
	if v, ok := m.m.Load(s); ok {
		return v.(string)
	}
	out := normalizeLabel(s)
	if m.n.Add(1) <= maxNormalized {
		m.m.Store(s, out)
	}
	return out
}

// apostrophe maps the characters used as apostrophes to the ASCII one.
func apostrophe(r rune) rune {
	switch r {
	case '\u2019', '\u2018', '`', '\u00b4', '\u02bc', '\u2032':
		return '\''
	}
	return r
}

// mapReasons turns reason labels into domain values. An unknown label keeps
// its text with a nil code, and is reported once as drift.
func mapReasons[C ~string, R any](c *Client, endpoint string, labels []text, index map[string]C, build func(code *C, label string) R) []*R {
	out := make([]R, 0, len(labels))
	codes := make([]C, len(labels))
	skipped := 0
	for i := range labels {
		l := &labels[i]
		if !l.present() {
			skipped++
			continue
		}
		var code *C
		if v, ok := index[c.labels.normalize(l.s)]; ok {
			codes[i] = v
			code = &codes[i]
		} else {
			c.unknown(endpoint, l.s)
		}
		out = append(out, build(code, l.s))
	}
	c.skipped(endpoint, skipped)
	return pointers(out)
}

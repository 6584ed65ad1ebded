package plan

import (
	"maps"
	"slices"
)

// Loader names a keyed loader: one that waits for a batching window so
// that the keys of sibling fields share one upstream call.
type Loader string

// The keyed loaders of internal/loaders. List loaders (Projects, Ennis…)
// and the billing-site pool have no window, so no field needs counting for
// them.
const (
	ProjectByCodeLoader    Loader = "ProjectByCode"
	EnniByReferenceLoader  Loader = "EnniByReference"
	BusinessByCodeLoader   Loader = "BusinessByCode"
	EnnisOfClientLoader    Loader = "EnnisOfClient"
	ProjectsOfClientLoader Loader = "ProjectsOfClient"
)

// reach is declared once for the whole schema: every field that has a
// resolver (gqlgen.yml and the schema decide which), as Type.field, with
// the keyed loaders it reaches, none for a field that reaches none. graph's
// TestEveryResolverFieldIsPlanned walks the schema and fails on a resolver
// field missing here, so a new field cannot silently make extra upstream
// calls or wait a window. The lone-key count (lone.go) reads it inverted.
var reach = map[string][]Loader{
	"Query.project":  {ProjectByCodeLoader},
	"Query.enni":     {EnniByReferenceLoader},
	"Query.business": {BusinessByCodeLoader},
	"Query.node":     {ProjectByCodeLoader, EnniByReferenceLoader, BusinessByCodeLoader},
	entitiesField:    {ProjectByCodeLoader, EnniByReferenceLoader, BusinessByCodeLoader},
	"Project.ennis":  {EnnisOfClientLoader},
	"Enni.projects":  {ProjectsOfClientLoader},

	// Whole lists, read once per request and shared: no window.
	"Query.projects":            nil,
	"Query.ennis":               nil,
	"Query.businesses":          nil,
	"Query.terminateReasons":    nil,
	"Query.changeReasons":       nil,
	"Query.siteConnectionTypes": nil,
	"Query.enniConnection":      nil,
	"Query.projectConnection":   nil,
	"Query.businessConnection":  nil,
	// Billing sites go through the request's pool, one GET per code.
	"Query.billingSite":  nil,
	"Query.billingSites": nil,
}

// entitiesField is the federation root field. Unlike the other fields it
// brings any number of keys in one call, so it can share a loader's count
// only when it is the loader's one field: then the keys it holds are all
// the loader will see.
const entitiesField = "Query._entities"

// reachedBy is reach inverted: the fields that reach each loader. It is
// built once from reach and never written.
var reachedBy = func() map[Loader][]string {
	out := make(map[Loader][]string)
	for _, field := range slices.Sorted(maps.Keys(reach)) {
		for _, l := range reach[field] {
			out[l] = append(out[l], field)
		}
	}
	return out
}()

// Reach returns the keyed loaders field (Type.field) reaches, and whether
// the plan knows the field at all.
func Reach(field string) ([]Loader, bool) {
	l, ok := reach[field]
	return slices.Clone(l), ok
}

// Planned returns every field of the reach table, sorted.
func Planned() []string {
	return slices.Sorted(maps.Keys(reach))
}

package loaders

import (
	"context"

	"github.com/covage/gateway/internal/domain"
)

// Many keys at once: a federation router sends every representation of a
// type in one _entities call, so the keys arrive together rather than one
// per field. They go to the keyed loader as one LoadMany, which costs one
// upstream call however many there are (the filtered call when there is
// one distinct key, else the list), the same rule as the single lookups.

// ProjectsByCode returns, for each code, the project with that code or nil,
// with one error per code (errs is nil when every code loaded).
func (l *Loaders) ProjectsByCode(ctx context.Context, codes []string) (projects []*domain.Project, errs []error) {
	return l.projectByCode.loadMany(ctx, codes)
}

// EnnisByReference returns, for each reference, the door with that
// reference or nil, with one error per reference (errs is nil when every
// reference loaded).
func (l *Loaders) EnnisByReference(ctx context.Context, refs []string) (ennis []*domain.Enni, errs []error) {
	return l.enniByReference.loadMany(ctx, refs)
}

// BusinessesByCode returns, for each code, the business with that code or
// nil, with one error per code (errs is nil when every code loaded).
func (l *Loaders) BusinessesByCode(ctx context.Context, codes []string) (businesses []*domain.Business, errs []error) {
	return l.businessByCode.loadMany(ctx, codes)
}

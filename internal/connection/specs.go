package connection

import (
	"time"

	"github.com/covage/gateway/internal/domain"
)

// The connections of the schema. Their field lists are the contract's:
// what each connection searches, and what each order field sorts by. They
// are never modified.
var (
	// Ennis searches reference, code, label, name and shortName.
	Ennis = &Spec[domain.Enni]{
		Name: "enni",
		Key:  func(e *domain.Enni) string { return e.Reference },
		Searched: []func(*domain.Enni) string{
			func(e *domain.Enni) string { return e.Reference },
			func(e *domain.Enni) string { return text(e.Code) },
			func(e *domain.Enni) string { return text(e.Label) },
			func(e *domain.Enni) string { return text(e.Name) },
			func(e *domain.Enni) string { return text(e.ShortName) },
		},
		Orders: map[string]func(*domain.Enni) string{
			string(domain.EnniOrderReference): func(e *domain.Enni) string { return e.Reference },
			string(domain.EnniOrderCode):      func(e *domain.Enni) string { return text(e.Code) },
			string(domain.EnniOrderLabel):     func(e *domain.Enni) string { return text(e.Label) },
			string(domain.EnniOrderName):      func(e *domain.Enni) string { return text(e.Name) },
			string(domain.EnniOrderShortName): func(e *domain.Enni) string { return text(e.ShortName) },
		},
	}

	// Projects searches code and clientCode.
	Projects = &Spec[domain.Project]{
		Name: "project",
		Key:  func(p *domain.Project) string { return p.Code },
		Searched: []func(*domain.Project) string{
			func(p *domain.Project) string { return p.Code },
			func(p *domain.Project) string { return text(p.ClientCode) },
		},
		Orders: map[string]func(*domain.Project) string{
			string(domain.ProjectOrderCode):       func(p *domain.Project) string { return p.Code },
			string(domain.ProjectOrderClientCode): func(p *domain.Project) string { return text(p.ClientCode) },
			string(domain.ProjectOrderStartDate):  func(p *domain.Project) string { return date(p.StartDate) },
			string(domain.ProjectOrderEndDate):    func(p *domain.Project) string { return date(p.EndDate) },
		},
	}

	// Businesses searches code and label.
	Businesses = &Spec[domain.Business]{
		Name: "business",
		Key:  func(b *domain.Business) string { return b.Code },
		Searched: []func(*domain.Business) string{
			func(b *domain.Business) string { return b.Code },
			func(b *domain.Business) string { return text(b.Label) },
		},
		Orders: map[string]func(*domain.Business) string{
			string(domain.BusinessOrderCode):             func(b *domain.Business) string { return b.Code },
			string(domain.BusinessOrderLabel):            func(b *domain.Business) string { return text(b.Label) },
			string(domain.BusinessOrderModificationDate): func(b *domain.Business) string { return instant(b.ModificationDate) },
		},
	}
)

// text is a missing value as the empty string, as the contract sorts it.
func text(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func date(d *domain.Date) string {
	if d == nil {
		return ""
	}
	return string(*d)
}

// instant is a DateTime as the schema serves it (gqlgen's RFC 3339 text).
func instant(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

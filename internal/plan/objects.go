package plan

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/covage/gateway/internal/domain"
	"github.com/covage/gateway/internal/loaders"
)

// objects returns the object types whose lists take the fast path. A field
// missing here only means its lists go through gqlgen; graph's
// TestFastPathWritesEveryBoundLeaf checks these against the schema and
// gqlgen's bindings, and graph/fastlist_test.go checks every writer against
// gqlgen's own output, byte for byte.
func objects() map[string]lister {
	enni := &object[domain.Enni]{name: "Enni", implementors: []string{"Enni", "Node"}, leaves: map[string]func(*out, *domain.Enni){
		"id":           func(b *out, v *domain.Enni) { writeQuoted(b, v.ID()) },
		"code":         func(b *out, v *domain.Enni) { writeOptString(b, v.Code) },
		"name":         func(b *out, v *domain.Enni) { writeOptString(b, v.Name) },
		"shortName":    func(b *out, v *domain.Enni) { writeOptString(b, v.ShortName) },
		"reference":    func(b *out, v *domain.Enni) { writeQuoted(b, v.Reference) },
		"label":        func(b *out, v *domain.Enni) { writeOptString(b, v.Label) },
		"offer":        func(b *out, v *domain.Enni) { writeOptMarshaler(b, v.Offer) },
		"dsp":          func(b *out, v *domain.Enni) { writeOptString(b, v.Dsp) },
		"deliveryMode": func(b *out, v *domain.Enni) { writeOptString(b, v.DeliveryMode) },
		"active":       func(b *out, v *domain.Enni) { writeBool(b, v.Active) },
	}}
	project := &object[domain.Project]{name: "Project", implementors: []string{"Project", "Node"}, leaves: map[string]func(*out, *domain.Project){
		"id":         func(b *out, v *domain.Project) { writeQuoted(b, v.ID()) },
		"code":       func(b *out, v *domain.Project) { writeQuoted(b, v.Code) },
		"active":     func(b *out, v *domain.Project) { writeBool(b, v.Active) },
		"startDate":  func(b *out, v *domain.Project) { writeOptMarshaler(b, v.StartDate) },
		"endDate":    func(b *out, v *domain.Project) { writeOptMarshaler(b, v.EndDate) },
		"clientCode": func(b *out, v *domain.Project) { writeOptString(b, v.ClientCode) },
	}}
	enni.relations = map[string]relation[domain.Enni]{
		"projects": &link[domain.Enni, domain.Project]{child: project, load: func(ctx context.Context, v *domain.Enni) ([]*domain.Project, bool, error) {
			if v.ShortName == nil {
				return []*domain.Project{}, true, nil
			}
			return loaders.For(ctx).ProjectsOfClientIndexed(ctx, *v.ShortName)
		}},
	}
	project.relations = map[string]relation[domain.Project]{
		"ennis": &link[domain.Project, domain.Enni]{child: enni, load: func(ctx context.Context, v *domain.Project) ([]*domain.Enni, bool, error) {
			if v.ClientCode == nil {
				return []*domain.Enni{}, true, nil
			}
			return loaders.For(ctx).EnnisOfClientIndexed(ctx, *v.ClientCode, domain.EnniFilter{})
		}},
	}
	return map[string]lister{
		"Enni":    enni,
		"Project": project,
		"BillingSite": &object[domain.BillingSite]{name: "BillingSite", implementors: []string{"BillingSite", "Node"}, leaves: map[string]func(*out, *domain.BillingSite){
			"id":          func(b *out, v *domain.BillingSite) { writeQuoted(b, v.ID()) },
			"code":        func(b *out, v *domain.BillingSite) { writeQuoted(b, v.Code) },
			"description": func(b *out, v *domain.BillingSite) { writeOptString(b, v.Description) },
		}},
		"TerminateReason": &object[domain.TerminateReason]{name: "TerminateReason", implementors: []string{"TerminateReason"}, leaves: map[string]func(*out, *domain.TerminateReason){
			"code":  func(b *out, v *domain.TerminateReason) { writeOptMarshaler(b, v.Code) },
			"label": func(b *out, v *domain.TerminateReason) { writeQuoted(b, v.Label) },
		}},
		"ChangeReason": &object[domain.ChangeReason]{name: "ChangeReason", implementors: []string{"ChangeReason"}, leaves: map[string]func(*out, *domain.ChangeReason){
			"code":  func(b *out, v *domain.ChangeReason) { writeOptMarshaler(b, v.Code) },
			"label": func(b *out, v *domain.ChangeReason) { writeQuoted(b, v.Label) },
		}},
		"SiteConnectionType": &object[domain.SiteConnectionType]{name: "SiteConnectionType", implementors: []string{"SiteConnectionType"}, leaves: map[string]func(*out, *domain.SiteConnectionType){
			"code":  func(b *out, v *domain.SiteConnectionType) { writeOptMarshaler(b, v.Code) },
			"label": func(b *out, v *domain.SiteConnectionType) { writeQuoted(b, v.Label) },
		}},
	}
}

func writeBool(b *out, v bool) {
	if v {
		b.str("true")
	} else {
		b.str("false")
	}
}

func writeOptString(b *out, s *string) {
	if s == nil {
		b.str("null")
		return
	}
	writeQuoted(b, *s)
}

// writeOptMarshaler writes an enum or custom scalar with its own MarshalGQL,
// as gqlgen's generated code does, or null.
func writeOptMarshaler[T graphql.Marshaler](b *out, v *T) {
	if v == nil {
		b.str("null")
		return
	}
	(*v).MarshalGQL(b)
}

const hexDigits = "0123456789ABCDEF"

// writeQuoted writes s as a JSON string exactly as gqlgen's
// graphql.MarshalString does: only control characters, backslash and the
// double quote are escaped; other bytes, invalid UTF-8 included, are copied.
// It walks bytes, not runes: every byte it escapes is ASCII.
func writeQuoted(o *out, s string) {
	b := append(o.b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\', '"':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	o.b = append(b, '"')
}

// out is the JSON a fast list writes: a byte slice it appends to. Its
// methods inline where bytes.Buffer's did not (WriteByte, WriteString and
// their growth checks were 38 % of a streamed answer's CPU in a profile);
// it is an io.Writer for the leaves' own MarshalGQL.
type out struct{ b []byte }

func (o *out) byte(c byte)  { o.b = append(o.b, c) }
func (o *out) str(s string) { o.b = append(o.b, s...) }

func (o *out) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// WriteString makes io.WriteString, which enums' MarshalGQL call three
// times a value, append without converting to a byte slice (an allocation
// per call otherwise).
func (o *out) WriteString(s string) (int, error) {
	o.b = append(o.b, s...)
	return len(s), nil
}

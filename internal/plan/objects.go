package plan

import (
	"bytes"
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
	enni := &object[domain.Enni]{name: "Enni", implementors: []string{"Enni", "Node"}, leaves: map[string]func(*bytes.Buffer, *domain.Enni){
		"id":           func(b *bytes.Buffer, v *domain.Enni) { writeQuoted(b, v.ID()) },
		"code":         func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Code) },
		"name":         func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Name) },
		"shortName":    func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.ShortName) },
		"reference":    func(b *bytes.Buffer, v *domain.Enni) { writeQuoted(b, v.Reference) },
		"label":        func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Label) },
		"offer":        func(b *bytes.Buffer, v *domain.Enni) { writeOptMarshaler(b, v.Offer) },
		"dsp":          func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.Dsp) },
		"deliveryMode": func(b *bytes.Buffer, v *domain.Enni) { writeOptString(b, v.DeliveryMode) },
		"active":       func(b *bytes.Buffer, v *domain.Enni) { writeBool(b, v.Active) },
	}}
	project := &object[domain.Project]{name: "Project", implementors: []string{"Project", "Node"}, leaves: map[string]func(*bytes.Buffer, *domain.Project){
		"id":         func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.ID()) },
		"code":       func(b *bytes.Buffer, v *domain.Project) { writeQuoted(b, v.Code) },
		"active":     func(b *bytes.Buffer, v *domain.Project) { writeBool(b, v.Active) },
		"startDate":  func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.StartDate) },
		"endDate":    func(b *bytes.Buffer, v *domain.Project) { writeOptMarshaler(b, v.EndDate) },
		"clientCode": func(b *bytes.Buffer, v *domain.Project) { writeOptString(b, v.ClientCode) },
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
		"BillingSite": &object[domain.BillingSite]{name: "BillingSite", implementors: []string{"BillingSite", "Node"}, leaves: map[string]func(*bytes.Buffer, *domain.BillingSite){
			"id":          func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.ID()) },
			"code":        func(b *bytes.Buffer, v *domain.BillingSite) { writeQuoted(b, v.Code) },
			"description": func(b *bytes.Buffer, v *domain.BillingSite) { writeOptString(b, v.Description) },
		}},
		"TerminateReason": &object[domain.TerminateReason]{name: "TerminateReason", implementors: []string{"TerminateReason"}, leaves: map[string]func(*bytes.Buffer, *domain.TerminateReason){
			"code":  func(b *bytes.Buffer, v *domain.TerminateReason) { writeOptMarshaler(b, v.Code) },
			"label": func(b *bytes.Buffer, v *domain.TerminateReason) { writeQuoted(b, v.Label) },
		}},
		"ChangeReason": &object[domain.ChangeReason]{name: "ChangeReason", implementors: []string{"ChangeReason"}, leaves: map[string]func(*bytes.Buffer, *domain.ChangeReason){
			"code":  func(b *bytes.Buffer, v *domain.ChangeReason) { writeOptMarshaler(b, v.Code) },
			"label": func(b *bytes.Buffer, v *domain.ChangeReason) { writeQuoted(b, v.Label) },
		}},
		"SiteConnectionType": &object[domain.SiteConnectionType]{name: "SiteConnectionType", implementors: []string{"SiteConnectionType"}, leaves: map[string]func(*bytes.Buffer, *domain.SiteConnectionType){
			"code":  func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeOptMarshaler(b, v.Code) },
			"label": func(b *bytes.Buffer, v *domain.SiteConnectionType) { writeQuoted(b, v.Label) },
		}},
	}
}

func writeBool(b *bytes.Buffer, v bool) {
	if v {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

func writeOptString(b *bytes.Buffer, s *string) {
	if s == nil {
		b.WriteString("null")
		return
	}
	writeQuoted(b, *s)
}

// writeOptMarshaler writes an enum or custom scalar with its own MarshalGQL,
// as gqlgen's generated code does, or null.
func writeOptMarshaler[T graphql.Marshaler](b *bytes.Buffer, v *T) {
	if v == nil {
		b.WriteString("null")
		return
	}
	(*v).MarshalGQL(b)
}

const hexDigits = "0123456789ABCDEF"

// writeQuoted writes s as a JSON string exactly as gqlgen's
// graphql.MarshalString does: only control characters, backslash and the
// double quote are escaped; other bytes, invalid UTF-8 included, are copied.
// It walks bytes, not runes: every byte it escapes is ASCII.
func writeQuoted(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

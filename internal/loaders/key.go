package loaders

import "github.com/covage/gateway/internal/domain"

// clientKey is the key of the Project.ennis loader: a client and the door
// filter the field was given. Dataloader keys must be comparable, so the
// filter is held by value.
type clientKey struct {
	client string
	filter enniFilterKey
}

// opt is an optional string held by value.
type opt struct {
	set bool
	v   string
}

func optOf[T ~string](p *T) opt {
	if p == nil {
		return opt{}
	}
	return opt{set: true, v: string(*p)}
}

func (o opt) ptr() *string {
	if !o.set {
		return nil
	}
	v := o.v
	return &v
}

// enniFilterKey is domain.EnniFilter held by value, so it can be compared.
type enniFilterKey struct {
	reference, name, shortName, dsp, deliveryMode, offer opt
	active                                               int8 // 0 unset, 1 false, 2 true
}

func newEnniFilterKey(f domain.EnniFilter) enniFilterKey {
	k := enniFilterKey{
		reference:    optOf(f.Reference),
		name:         optOf(f.Name),
		shortName:    optOf(f.ShortName),
		dsp:          optOf(f.Dsp),
		deliveryMode: optOf(f.DeliveryMode),
		offer:        optOf(f.Offer),
	}
	if f.Active != nil {
		k.active = 1
		if *f.Active {
			k.active = 2
		}
	}
	return k
}

func (k enniFilterKey) filter() domain.EnniFilter {
	f := domain.EnniFilter{
		Reference:    k.reference.ptr(),
		Name:         k.name.ptr(),
		ShortName:    k.shortName.ptr(),
		Dsp:          k.dsp.ptr(),
		DeliveryMode: k.deliveryMode.ptr(),
	}
	if k.offer.set {
		o := domain.Offer(k.offer.v)
		f.Offer = &o
	}
	if k.active != 0 {
		a := k.active == 2
		f.Active = &a
	}
	return f
}

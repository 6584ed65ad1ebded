package covage

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covage/gateway/internal/domain"
)

// Drift kinds reported to Config.OnDrift besides the reason endpoint names.
const (
	driftOffer      = "offer"
	driftDate       = "date"
	driftDateTime   = "datetime"
	driftStatus     = "status"
	driftActive     = "active"
	driftMissingKey = "missing_key"
)

// Each mapper fills one backing array and returns pointers into it: one
// allocation per list instead of one per record. Optional fields point into
// the raw records for the same reason, except a door's: the door list is
// the long one (50,000 doors), so its records carry their own values and
// the raw records are garbage once mapped (enniRecord).

func (c *Client) projects(raw []rawProject) []*domain.Project {
	out := make([]domain.Project, 0, len(raw))
	skipped := 0
	for i := range raw {
		r := &raw[i]
		if !r.Code.present() {
			skipped++
			continue
		}
		out = append(out, domain.Project{
			Code:       r.Code.s,
			Active:     c.flag(&r.Active),
			StartDate:  c.date(&r.start, &r.StartDate),
			EndDate:    c.date(&r.end, &r.EndDate),
			ClientCode: r.ClientCode.ptr(),
		})
	}
	c.skipped(EndpointProject, skipped)
	return pointers(out)
}

// enniRecord is a mapped door with the strings its code and label point
// to. Its other optional fields point to strings of doorFields (shared by
// the doors of a long list), its offer to offers. The raw records,
// larger, are then garbage once mapped: a list of 50,000 doors holds 5.6
// MB of records (112 bytes a door), plus their strings (stringBlocks), for
// as long as the request that read it, or the shared cache, keeps it.
type enniRecord struct {
	domain.Enni
	code, label string
}

func (c *Client) ennis(raw []rawEnni) []*domain.Enni {
	m := c.doorMapper()
	out, skipped := m(make([]enniRecord, 0, len(raw)), raw)
	c.skipped(EndpointEnni, skipped)
	return enniPointers(out)
}

// doorMapper returns the mapper of one list read: it appends the doors of
// raw to out, and reports how many it skipped (no reference).
func (c *Client) doorMapper() func(out []enniRecord, raw []rawEnni) ([]enniRecord, int) {
	d := new(doorFields)
	return func(out []enniRecord, raw []rawEnni) ([]enniRecord, int) {
		skipped := 0
		// fetchMapped sizes out for the list's length when it knows it,
		// and doubles it otherwise.
		d.long = d.long || cap(out) >= shareFrom
		for i := range raw {
			r := &raw[i]
			if !r.Reference.present() {
				skipped++
				continue
			}
			out = append(out, enniRecord{})
			e := &out[len(out)-1]
			if d.long {
				// The door's own strings in one block: at most one
				// new block for the three.
				d.reserve(len(r.Reference.s) + len(r.Code.s) + len(r.Label.s))
			}
			e.Enni = domain.Enni{
				Name:         d.pointer(doorName, &r.Name),
				ShortName:    d.pointer(doorShortName, &r.ShortName),
				Reference:    d.own(r.Reference.s),
				Offer:        c.offer(&r.Offer),
				Dsp:          d.pointer(doorDsp, &r.Dsp),
				DeliveryMode: d.pointer(doorDeliveryMode, &r.DeliveryMode),
				Active:       c.flag(&r.Active),
			}
			if r.Code.ok {
				e.code = d.own(r.Code.s)
				e.Code = &e.code
			}
			if r.Label.ok {
				e.label = d.own(r.Label.s)
				e.Label = &e.label
			}
		}
		return out, skipped
	}
}

// enniPointers returns the doors of out, once out holds them all (an
// append may move them before).
func enniPointers(out []enniRecord) []*domain.Enni {
	ptrs := make([]*domain.Enni, len(out))
	for i := range out {
		ptrs[i] = &out[i].Enni
	}
	return ptrs
}

func (c *Client) businesses(raw []rawBusiness) []*domain.Business {
	out := make([]domain.Business, 0, len(raw))
	skipped := 0
	for i := range raw {
		r := &raw[i]
		if !r.Code.present() {
			skipped++
			continue
		}
		out = append(out, domain.Business{
			Code:             r.Code.s,
			Label:            r.Label.ptr(),
			ModificationDate: c.dateTime(&r.modified, &r.ModificationDate),
			ValidityEndDate:  c.dateTime(&r.validUntil, &r.ValidityEndDate),
			Status:           c.number(&r.status, &r.Status),
		})
	}
	c.skipped(EndpointBusiness, skipped)
	return pointers(out)
}

func pointers[T any](xs []T) []*T {
	ptrs := make([]*T, len(xs))
	for i := range xs {
		ptrs[i] = &xs[i]
	}
	return ptrs
}

// flag reads a boolean; absent is false, and so is anything unreadable.
func (c *Client) flag(t *text) bool {
	switch {
	case !t.ok:
		return false
	case t.s == "true": // as sent nearly always: no trimming or folding
		return true
	case t.s == "false":
		return false
	}
	b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(t.s)))
	if err != nil {
		c.unknown(driftActive, t.s)
		return false
	}
	return b
}

// date parses a calendar date into dst and returns dst, or nil.
func (c *Client) date(dst *domain.Date, t *text) *domain.Date {
	if !t.present() {
		return nil
	}
	d, err := domain.ParseDate(t.s)
	if err != nil {
		c.unknown(driftDate, t.s)
		return nil
	}
	*dst = d
	return dst
}

// dateTimeLayouts are tried in order. The API documents RFC 3339; Django
// also emits naive timestamps and plain dates, which are read as UTC.
var dateTimeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

// dateTime parses a timestamp into dst and returns dst, or nil.
func (c *Client) dateTime(dst *time.Time, t *text) *time.Time {
	if !t.present() {
		return nil
	}
	s := strings.TrimSpace(t.s)
	for _, layout := range dateTimeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			*dst = v
			return dst
		}
	}
	c.unknown(driftDateTime, t.s)
	return nil
}

// number reads an integer sent as a number or a numeric string into dst
// and returns dst, or nil.
func (c *Client) number(dst *int, t *text) *int {
	if !t.present() {
		return nil
	}
	s := strings.TrimSpace(t.s)
	if n, err := strconv.Atoi(s); err == nil {
		*dst = n
		return dst
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		*dst = int(f)
		return dst
	}
	c.unknown(driftStatus, t.s)
	return nil
}

// offer matches an offer type loosely (spacing, case) into dst and returns
// dst, or nil.
// offers are the offers a door may have. A door's Offer points here, not
// to a copy in its record: 16 bytes less a door, 0.8 MB a list of 50,000.
// Nothing writes through a door's Offer.
var offers = [...]domain.Offer{domain.OfferBPE, domain.OfferBPEA}

func (c *Client) offer(t *text) *domain.Offer {
	for i := range offers { // as sent nearly always: no trimming or folding
		if t.ok && string(offers[i]) == t.s {
			return &offers[i]
		}
	}
	if !t.present() {
		return nil
	}
	o := domain.Offer(strings.ToUpper(strings.TrimSpace(t.s)))
	for i := range offers {
		if offers[i] == o {
			return &offers[i]
		}
	}
	c.unknown(driftOffer, t.s)
	return nil
}

// Drift reporting. Distinct values are remembered per Client, up to a
// bound, so a drifting upstream is logged once per value rather than once
// per record, and cannot grow the set without limit.
const (
	maxDriftValues   = 1024
	maxDriftValueLen = 200
)

// unknown reports a value this client does not understand, once per
// distinct (kind, value).
func (c *Client) unknown(kind, value string) {
	value = truncate(value, maxDriftValueLen)
	if !c.firstSighting(kind, value) {
		return
	}
	// A copy: value shares a block with a list's strings (stringBlocks),
	// which the hook or the log handler must not keep alive.
	value = strings.Clone(value)
	c.log.Warn("covage: unexpected upstream value", "kind", kind, "value", value)
	if c.onDrift != nil {
		c.onDrift(kind, value)
	}
}

// skipped reports records dropped for lacking their key. The warning is
// logged on every call, since each call loses data; OnDrift hears of it
// once per endpoint.
func (c *Client) skipped(endpoint string, n int) {
	if n == 0 {
		return
	}
	c.log.Warn("covage: records without their key skipped", "endpoint", endpoint, "count", n)
	if c.firstSighting(driftMissingKey, endpoint) && c.onDrift != nil {
		c.onDrift(driftMissingKey, endpoint)
	}
}

func (c *Client) firstSighting(kind, value string) bool {
	key := kind + "\x00" + value
	if _, seen := c.drift.Load(key); seen {
		return false
	}
	if c.driftCount.Load() >= maxDriftValues {
		return false
	}
	if _, seen := c.drift.LoadOrStore(key, struct{}{}); seen {
		return false
	}
	if c.driftCount.Add(1) == maxDriftValues {
		c.log.Warn("covage: too many unexpected upstream values, no longer reporting new ones", "limit", maxDriftValues)
	}
	return true
}

// truncate shortens s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

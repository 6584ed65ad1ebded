package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// clientAddress finds the address of the client behind a request. The
// connection's peer is the client unless it is one of the trusted proxies;
// then the forwarding header names the client: the right-most hop that is
// not itself a trusted proxy. Every hop to the left of that one was written
// by the client and proves nothing, so it is never believed.
//
// X-Forwarded-For is read when present, else Forwarded (RFC 7239). The
// ingress must append to the header it uses: a client can send either.
type clientAddress struct {
	trusted []netip.Prefix
}

func (c clientAddress) isTrusted(a netip.Addr) bool {
	return slices.ContainsFunc(c.trusted, func(p netip.Prefix) bool { return p.Contains(a) })
}

// of returns the client's address, or an invalid Addr when the peer
// address cannot be read (never the case with net/http's server).
func (c clientAddress) of(r *http.Request) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || len(c.trusted) == 0 || !c.isTrusted(peer) {
		return peer
	}
	hops := forwardedHops(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(hops[i])
		if !a.IsValid() {
			// A hop that is no address (garbage, "unknown", an obfuscated
			// name): the last trusted hop is as far as we can see.
			return client
		}
		client = a
		if !c.isTrusted(a) {
			return a
		}
	}
	return client
}

// forwardedHops lists the forwarding chain, client first, from every
// X-Forwarded-For header, else every Forwarded header's for= parameters.
func forwardedHops(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for hop := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops
	}
	for _, v := range h.Values("Forwarded") {
		for elem := range strings.SplitSeq(v, ",") {
			for pair := range strings.SplitSeq(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					hops = append(hops, strings.Trim(val, `"`))
				}
			}
		}
	}
	return hops
}

// parseHost reads an address with or without a port, IPv6 in brackets or
// not, and unmaps IPv4-in-IPv6.
func parseHost(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// addressKey is the rate-limit key of an address. An IPv6 client is keyed
// by its /64, since one subscriber is commonly given a whole /64 and could
// otherwise rotate through it for fresh budgets.
func addressKey(a netip.Addr) string {
	if !a.IsValid() {
		return "address:unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "address:" + p.String()
	}
	return "address:" + a.String()
}

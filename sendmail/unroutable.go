package sendmail

import (
	"net"
	"net/netip"
)

// unroutableError is an address a remote domain's DNS points SendMail at
// that it will not connect to. It is permanent: the zone is broken or
// hostile, and retrying for days only delays the bounce.
type unroutableError struct {
	domain, host string // the recipient's domain and its mail exchanger
	ip           netip.Addr
	why          string
}

func (e *unroutableError) Error() string {
	if e.host == e.domain { // implicit MX
		return e.domain + " points to " + e.ip.String() + ": " + e.why
	}
	return "MX " + e.host + " for " + e.domain + " points to " + e.ip.String() + ": " + e.why
}

func (e *unroutableError) Unwrap() error { return errUndeliverable }

// reservedV4 is "this network" and the reserved class E, which holds the
// limited broadcast address (RFC 6890); Go has no predicate for either.
var reservedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// sharedV4 is the carrier-grade NAT range (RFC 6598): as private as RFC
// 1918 for SendMailRefusePrivate.
var sharedV4 = netip.MustParsePrefix("100.64.0.0/10")

// Prefixes of IPv6 addresses that carry an IPv4 address a gateway on the
// way would connect to: NAT64 (RFC 6052 and the local-use range of RFC
// 8215: the last 32 bits), 6to4 (RFC 3056: bits 16-47) and the
// deprecated IPv4-compatible form (RFC 4291: the last 32 bits).
var (
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
	v4compat  = netip.MustParsePrefix("::/96")
)

// embeddedV4 returns the IPv4 address an IPv6 address a carries, if it
// is of a form that carries one.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64[0].Contains(a) || nat64[1].Contains(a) || (v4compat.Contains(a) && !a.IsUnspecified() && !a.IsLoopback()):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// unroutable checks an address that DNS gave for a mail exchanger (or an
// implicit MX) of domain. A zone, unlike the sysop's RelayServer and
// alias.cfg routes, is anyone's to write: it must not make SendMail
// connect to this machine (loopback, its own addresses: a mail loop) or
// to addresses that are not unicast hosts at all. Private addresses are
// refused only with RefusePrivate. Loopback is allowed when MXPort is not
// 25, which only tests do (their receiving peers listen on loopback).
func (s *Sender) unroutable(domain, host string, ip net.IP) error {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return &unroutableError{domain: domain, host: host, why: "not an IP address"}
	}
	a = a.Unmap()
	if v4, ok := embeddedV4(a); ok {
		// Judge the IPv4 address a translator would connect to; the
		// error names the address DNS gave.
		if err := s.unroutable(domain, host, net.IP(v4.AsSlice())); err != nil {
			e := err.(*unroutableError)
			e.ip, e.why = a, e.why+" inside "+v4.String()
			return e
		}
	}
	why := ""
	switch {
	case a.IsUnspecified():
		why = "not a routable address (unspecified)"
	case a.IsLoopback():
		if s.cfg.MXPort != DefaultMXPort {
			return nil
		}
		why = "not a routable address (loopback)"
	case a.IsLinkLocalUnicast():
		why = "not a routable address (link-local)"
	case a.IsMulticast():
		why = "not a routable address (multicast)"
	case a.Is4() && (reservedV4[0].Contains(a) || reservedV4[1].Contains(a)):
		why = "not a routable address (reserved or broadcast)"
	case s.cfg.OwnAddr != nil && s.cfg.OwnAddr(a):
		why = "an address of this host (mail loop)"
	case s.cfg.RefusePrivate && (a.IsPrivate() || sharedV4.Contains(a)):
		why = "a private address (SendMailRefusePrivate)"
	default:
		return nil
	}
	return &unroutableError{domain: domain, host: host, ip: a, why: why}
}

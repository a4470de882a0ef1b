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
	case s.cfg.RefusePrivate && a.IsPrivate():
		why = "a private address (SendMailRefusePrivate)"
	default:
		return nil
	}
	return &unroutableError{domain: domain, host: host, ip: a, why: why}
}

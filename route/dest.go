package route

import (
	"net/netip"
	"strconv"
	"strings"
)

// smtpPort is the only port a client may make SendMail connect to.
const smtpPort = 25

// specialNets are IPv4 ranges that are neither private nor loopback in
// Go's terms but are not public unicast either (RFC 6890): "this network",
// shared address space (carrier-grade NAT), IETF protocol assignments,
// benchmarking, documentation and the reserved class E.
var specialNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// checkDestination refuses a remote domain that SendMail would turn into
// a connection a client has no business asking for: a forced port other
// than 25 ("victim@example.com:2525"), an address literal or bare IP
// address that is not public unicast or is one of this machine's own
// ("victim@[127.0.0.1]"), and the reserved localhost names (RFC 6761).
// A destination the sysop wrote in alias.cfg is not checked.
func (r *Resolver) checkDestination(domain string) error {
	host, port, hasPort := splitDestination(domain)
	if hasPort && port != smtpPort {
		return replyBadDestination(domain, "only port 25 may be used")
	}
	literal := strings.HasPrefix(host, "[")
	if literal {
		inner := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if rest, ok := cutPrefixFold(inner, "IPv6:"); ok {
			inner = rest
		}
		host = inner
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if literal {
			return replyBadDestination(domain, "not an IP address")
		}
		if equalFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
			return replyBadDestination(domain, "not a public host")
		}
		return nil
	}
	if !publicUnicast(ip) || (r.cfg.OwnAddr != nil && r.cfg.OwnAddr(ip.Unmap())) {
		return replyBadDestination(domain, "not a public address")
	}
	return nil
}

// splitDestination splits a domain as SendMail reads it: "[literal]" or a
// name, then an optional ":port". A port that is not a number is -1.
func splitDestination(domain string) (host string, port int, hasPort bool) {
	rest := ""
	if strings.HasPrefix(domain, "[") {
		i := strings.IndexByte(domain, ']')
		if i < 0 {
			return domain, 0, false
		}
		host, rest = domain[:i+1], domain[i+1:]
		if rest == "" {
			return host, 0, false
		}
		if rest[0] != ':' {
			return host, -1, true
		}
		rest = rest[1:]
	} else {
		var ok bool
		host, rest, ok = strings.Cut(domain, ":")
		if !ok {
			return host, 0, false
		}
	}
	n, err := strconv.ParseUint(rest, 10, 16)
	if err != nil {
		return host, -1, true
	}
	return host, int(n), true
}

// publicUnicast reports whether ip is an ordinary Internet host address:
// not loopback, private, link-local, multicast, unspecified or otherwise
// reserved.
func publicUnicast(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, n := range specialNets {
		if n.Contains(ip) {
			return false
		}
	}
	return true
}

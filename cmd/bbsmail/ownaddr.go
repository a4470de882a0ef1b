package main

import (
	"net"
	"net/netip"
)

// ownAddr reports whether ip is on one of this machine's interfaces, for
// route.Config.OwnAddr: a client may not make SendMail connect back to the
// server it is talking to. The interfaces are read at each call, as
// addresses come and go, and the question only arises for the rare
// recipient whose domain is an IP address.
func ownAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if own, ok := netip.AddrFromSlice(n.IP); ok && own.Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

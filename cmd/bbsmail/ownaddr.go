package main

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// ownAddr reports whether ip is on one of this machine's interfaces, for
// route.Config.OwnAddr and SendMail's check of what DNS answers: nobody
// may make SendMail connect back to this server. SendMail asks for every
// address of every mail exchanger, so the interface list is read at most
// every ownAddrTTL; addresses come and go slowly.
func ownAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, own := range ownAddrs.get() {
		if own == ip {
			return true
		}
	}
	return false
}

const ownAddrTTL = 5 * time.Second

var ownAddrs ifaceAddrs

// ifaceAddrs caches the machine's interface addresses.
type ifaceAddrs struct {
	mu    sync.Mutex
	read  time.Time
	addrs []netip.Addr
}

func (c *ifaceAddrs) get() []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) < ownAddrTTL {
		return c.addrs
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return c.addrs
	}
	c.addrs = c.addrs[:0:0]
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if own, ok := netip.AddrFromSlice(n.IP); ok {
				c.addrs = append(c.addrs, own.Unmap())
			}
		}
	}
	c.read = time.Now()
	return c.addrs
}

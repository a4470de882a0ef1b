package main

import (
	"net/netip"
	"testing"
)

// The loopback interface is one of ours; a documentation address is not.
func TestOwnAddr(t *testing.T) {
	if !ownAddr(netip.MustParseAddr("127.0.0.1")) {
		t.Error("127.0.0.1 is not reported as this machine's")
	}
	if !ownAddr(netip.MustParseAddr("::ffff:127.0.0.1")) {
		t.Error("the IPv4-mapped form of 127.0.0.1 is not reported as this machine's")
	}
	if ownAddr(netip.MustParseAddr("192.0.2.1")) {
		t.Error("192.0.2.1 is reported as this machine's")
	}
}

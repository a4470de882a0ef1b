package sendmail

import (
	"net"
	"testing"
)

// Which addresses found in DNS are refused, with and without
// SendMailRefusePrivate; public and (by default) private unicast pass.
// Private addresses are checked here, not over a socket: tests connect
// only to loopback.
func TestUnroutable(t *testing.T) {
	open := &Sender{cfg: Config{MXPort: DefaultMXPort}}
	strict := &Sender{cfg: Config{MXPort: DefaultMXPort, RefusePrivate: true}}
	for _, c := range []struct {
		ip           string
		open, strict bool // refused
	}{
		{"198.51.100.7", false, false},
		{"2001:db8::25", false, false},
		{"10.1.2.3", false, true},
		{"172.16.0.9", false, true},
		{"192.168.1.1", false, true},
		{"fd00::25", false, true},
		{"127.0.0.1", true, true},
		{"0.1.2.3", true, true},
		{"::", true, true},
		{"ff05::2", true, true},
		{"240.0.0.1", true, true},
		{"100.64.1.1", false, true},
		// IPv4 inside IPv6: NAT64, 6to4, IPv4-compatible.
		{"64:ff9b::7f00:1", true, true},
		{"64:ff9b::c633:6407", false, false},
		{"64:ff9b::a01:203", false, true},
		{"64:ff9b:1::7f00:1", true, true},
		{"2002:7f00:1::1", true, true},
		{"2002:c633:6407::1", false, false},
		{"::7f00:1", true, true},
		{"::a9fe:1", true, true},
	} {
		ip := net.ParseIP(c.ip)
		if got := open.unroutable("d.test", "d.test", ip) != nil; got != c.open {
			t.Errorf("%s refused %v by default, want %v", c.ip, got, c.open)
		}
		if got := strict.unroutable("d.test", "d.test", ip) != nil; got != c.strict {
			t.Errorf("%s refused %v with RefusePrivate, want %v", c.ip, got, c.strict)
		}
	}
}

package testkit

import (
	"net"
	"testing"
	"time"
)

// Dial connects over TCP to addr from the local address from ("" = any).
func Dial(addr, from string) (net.Conn, error) {
	d := net.Dialer{Timeout: IOTimeout}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return d.Dial("tcp", addr)
}

// DialFrom connects to addr from the loopback address from, such as
// 127.0.0.2: a client that is not on the server's own address, as one on
// another machine would be. Where loopback is not all of 127.0.0.0/8 the
// test is skipped, saying so. The connection gives up after IOTimeout and
// is closed when the test ends.
func DialFrom(t testing.TB, addr, from string) net.Conn {
	t.Helper()
	c, err := Dial(addr, from)
	if err != nil {
		t.Skipf("cannot connect from %s (loopback is not 127.0.0.0/8 here): %v", from, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(IOTimeout))
	return c
}

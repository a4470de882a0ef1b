package netutil

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"sync/atomic"
)

// IDs numbers the sessions of one server for the log (the "id" key): 1,
// 2, ... in base 36, short enough to read in every log line.
type IDs struct{ n atomic.Uint64 }

// Next returns a new session id.
func (i *IDs) Next() string { return strconv.FormatUint(i.n.Add(1), 36) }

// Ref returns a reference for an error the client is told about only by
// it ("Local error (<ref>)"): the session id and 8 random hex digits, so
// the sysop finds the cause in the log and the client learns nothing else.
func Ref(id string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return id + "-" + hex.EncodeToString(b[:])
}

// AddrIP is the IP address of a as text, without port or zone.
func AddrIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// AddrPort is the port of a; 0 when it has none.
func AddrPort(a net.Addr) int {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

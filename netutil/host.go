package netutil

import (
	"context"
	"net"
	"slices"
	"strings"
)

// ConfirmedHost returns the client's host name when its reverse-DNS name
// resolves back to ip (forward-confirmed reverse DNS), and "" otherwise.
// Anyone who controls the reverse zone of an address can claim any name,
// and sysops trust names in relay.cfg, ip filters and ARS strings, so an
// unconfirmed name is never used. claimed is the name the reverse zone
// gave, for the log line that explains why it was ignored; it is "" when
// there was none, or when it could not be a host name (spaces, control
// characters, brackets or parentheses).
func ConfirmedHost(ctx context.Context, ip string,
	lookupAddr, lookupHost func(context.Context, string) ([]string, error)) (host, claimed string) {
	names, err := lookupAddr(ctx, ip)
	if err != nil || len(names) == 0 {
		return "", ""
	}
	h := strings.TrimSuffix(names[0], ".")
	if h == "" || strings.ContainsFunc(h, badHostRune) {
		return "", ""
	}
	addrs, err := lookupHost(ctx, h)
	if err != nil || !slices.ContainsFunc(addrs, func(a string) bool { return SameIP(a, ip) }) {
		return "", h
	}
	return h, h
}

func badHostRune(r rune) bool {
	return r <= ' ' || r == 0x7f || strings.ContainsRune("()[]<>\"", r)
}

// SameIP compares two textual addresses, so "::ffff:10.0.0.1" equals
// "10.0.0.1".
func SameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && y != nil && x.Equal(y)
}

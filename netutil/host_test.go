package netutil_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bbsmail/bbsmail/netutil"
)

func TestConfirmedHost(t *testing.T) {
	t.Parallel()
	ptr := map[string][]string{
		"192.0.2.1":   {"mail.example.org."},
		"192.0.2.2":   {"liar.example.org."},
		"192.0.2.3":   {"bad name.example.org"},
		"2001:db8::1": {"v6.example.org."},
	}
	fwd := map[string][]string{
		"mail.example.org": {"192.0.2.9", "192.0.2.1"},
		"liar.example.org": {"198.51.100.7"},
		"v6.example.org":   {"2001:db8:0:0::1"},
	}
	lookup := func(m map[string][]string) func(context.Context, string) ([]string, error) {
		return func(_ context.Context, k string) ([]string, error) {
			if v, ok := m[k]; ok {
				return v, nil
			}
			return nil, errors.New("no such name")
		}
	}
	for _, c := range []struct{ ip, host, claimed string }{
		{"192.0.2.1", "mail.example.org", "mail.example.org"},
		{"192.0.2.2", "", "liar.example.org"}, // does not resolve back
		{"192.0.2.3", "", ""},                 // not a host name
		{"192.0.2.4", "", ""},                 // no PTR
		{"2001:db8::1", "v6.example.org", "v6.example.org"},
	} {
		host, claimed := netutil.ConfirmedHost(context.Background(), c.ip, lookup(ptr), lookup(fwd))
		if host != c.host || claimed != c.claimed {
			t.Errorf("ConfirmedHost(%s) = %q, %q; want %q, %q", c.ip, host, claimed, c.host, c.claimed)
		}
	}
	if !netutil.SameIP("::ffff:10.0.0.1", "10.0.0.1") || netutil.SameIP("10.0.0.1", "10.0.0.2") || netutil.SameIP("x", "x") {
		t.Error("SameIP")
	}
}

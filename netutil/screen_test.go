package netutil

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// names is a Matcher over exact strings.
type names []string

func (n names) Match(s ...string) bool {
	return slices.ContainsFunc(s, func(v string) bool { return slices.Contains(n, v) })
}

type fakeBans struct {
	asked []string
	left  time.Duration
	wait  time.Duration
}

func (f *fakeBans) Banned(ip string) (time.Duration, string) {
	f.asked = append(f.asked, "ban "+ip)
	return f.left, "20 login attempts"
}

func (f *fakeBans) Throttle(ip string) (time.Duration, int) {
	f.asked = append(f.asked, "throttle "+ip)
	return f.wait, 3
}

// The checks before the greeting run in Synchronet's order, and each
// client is spared what it should be.
func TestScreenOrder(t *testing.T) {
	const ip, host = "192.0.2.7", "dialup.example"
	all := names{ip, host}
	for _, tc := range []struct {
		name   string
		screen Screen
		client Client
		want   Refusal
		exempt bool
		asked  string
	}{
		{"nothing listed", Screen{}, Client{IP: ip, Host: host}, Pass, false, "ban 192.0.2.7"},
		{"ip-silent before the ban", Screen{Silent: all}, Client{IP: ip}, Silenced, false, ""},
		{"ban before spamblock", Screen{SpamBlock: all, IPFilter: all}, Client{IP: ip}, Banned, false, "ban 192.0.2.7"},
		{"exempt skips all", Screen{Exempt: names{host}, Silent: all, IPFilter: all}, Client{IP: ip, Host: host}, Pass, true, ""},
		{"spamblock", Screen{SpamBlock: all, IPFilter: all}, Client{IP: ip}, SpamBlocked, false, "ban 192.0.2.7"},
		{"spamblock_exempt", Screen{SpamBlock: all, SpamBlockExempt: names{host}, IPFilter: all}, Client{IP: ip, Host: host}, IPBlocked, false, "ban 192.0.2.7"},
		{"own host spared spamblock, not ip.can", Screen{SpamBlock: all, IPFilter: all}, Client{IP: ip, Own: true}, IPBlocked, false, ""},
		{"host.can", Screen{HostFilter: all}, Client{IP: ip, Host: host, Own: true}, HostBlocked, false, ""},
		{"no host, no host.can", Screen{HostFilter: names{""}}, Client{IP: ip, Own: true}, Pass, false, ""},
		{"loopback skips the .can lists", Screen{Silent: all, IPFilter: all, HostFilter: all}, Client{IP: ip, Host: host, Local: true, Own: true}, Pass, false, ""},
		{"loopback is not spared spamblock", Screen{SpamBlock: names{"127.0.0.2"}}, Client{IP: "127.0.0.2", Local: true}, SpamBlocked, false, "ban 127.0.0.2"},
		{"own host is spared spamblock", Screen{SpamBlock: names{"127.0.0.1"}}, Client{IP: "127.0.0.1", Local: true, Own: true}, Pass, false, ""},
		{"own loopback address not local", Screen{SpamBlock: names{"127.0.0.1"}}, Client{IP: "127.0.0.1", Own: true}, SpamBlocked, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &fakeBans{left: time.Minute}
			if tc.want != Banned {
				g.left = 0
			}
			tc.screen.Guard = g
			got := tc.screen.Check(tc.client)
			if got.Refusal != tc.want || got.Exempt != tc.exempt {
				t.Fatalf("Check = %+v, want refusal %v exempt %v", got, tc.want, tc.exempt)
			}
			if a := strings.Join(g.asked, ","); a != tc.asked {
				t.Errorf("guard asked %q, want %q", a, tc.asked)
			}
		})
	}
}

// The throttle delay is capped, and spares own and exempt clients.
func TestScreenDelay(t *testing.T) {
	g := &fakeBans{wait: time.Hour}
	sc := Screen{Guard: g}
	if w, n := sc.Delay(Client{IP: "192.0.2.7"}, false, time.Minute); w != time.Minute || n != 3 {
		t.Errorf("Delay = %v, %d; want 1m0s, 3", w, n)
	}
	if w, _ := sc.Delay(Client{IP: "192.0.2.7", Own: true}, false, time.Minute); w != 0 {
		t.Errorf("own address waits %v", w)
	}
	if w, _ := sc.Delay(Client{IP: "192.0.2.7"}, true, time.Minute); w != 0 {
		t.Errorf("exempt client waits %v", w)
	}
	if w, _ := (&Screen{}).Delay(Client{IP: "192.0.2.7"}, false, time.Minute); w != 0 {
		t.Errorf("no guard: waits %v", w)
	}
}

// NewClient reads the addresses off the connection.
func TestNewClient(t *testing.T) {
	c := fakeConn{local: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 25}, remote: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 4000}}
	cl := NewClient(c, net.IP.IsLoopback)
	if cl != (Client{IP: "127.0.0.1", Local: true, Own: true}) {
		t.Errorf("NewClient = %+v", cl)
	}
	if id := (&IDs{}); id.Next() != "1" || id.Next() != "2" {
		t.Error("IDs")
	}
	if r := Ref("z"); !strings.HasPrefix(r, "z-") || len(r) != 10 {
		t.Errorf("Ref = %q", r)
	}
}

type fakeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c fakeConn) LocalAddr() net.Addr  { return c.local }
func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

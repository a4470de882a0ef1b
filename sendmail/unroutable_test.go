package sendmail_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/sendmail"
)

// A remote domain's DNS cannot make SendMail connect to this machine or
// to addresses that are not unicast hosts: each such recipient fails at
// once with the reason in the queue's last error and in the bounce, and
// the zone's usable exchanger is still used when there is one.
func TestMXToUnroutableAddressFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rcpt, want string
		port25     bool // MXPort 25, as in production: loopback refused too
		private    bool // SendMailRefusePrivate
	}{
		{"joe@loop.test", "MX mx.loop.test for loop.test points to 127.0.0.2: not a routable address (loopback)", true, false},
		{"joe@v6loop.test", "v6loop.test points to ::1: not a routable address (loopback)", true, false},
		{"joe@mapped.test", "mapped.test points to 127.0.0.2: not a routable address (loopback)", true, false},
		{"joe@unspec.test", "unspec.test points to 0.0.0.0: not a routable address (unspecified)", false, false},
		{"joe@linklocal.test", "MX ll.linklocal.test for linklocal.test points to 169.254.10.1: not a routable address (link-local)", false, false},
		{"joe@ll6.test", "ll6.test points to fe80::1: not a routable address (link-local)", false, false},
		{"joe@mcast.test", "mcast.test points to 224.0.0.1: not a routable address (multicast)", false, false},
		{"joe@mcast6.test", "mcast6.test points to ff02::1: not a routable address (multicast)", false, false},
		{"joe@bcast.test", "bcast.test points to 255.255.255.255: not a routable address (reserved or broadcast)", false, false},
		{"joe@own.test", "MX mx.own.test for own.test points to 192.0.2.10: an address of this host (mail loop)", false, false},
		{"joe@lan.test", "lan.test points to 10.1.2.3: a private address (SendMailRefusePrivate)", false, true},
		{"joe@ula.test", "ula.test points to fd00::25: a private address (SendMailRefusePrivate)", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.rcpt, func(t *testing.T) {
			t.Parallel()
			e, p, _ := mxEnv(t)
			if tc.port25 {
				e.cfg.MXPort = 25
			}
			e.cfg.RefusePrivate = tc.private
			e.cfg.OwnAddr = func(ip netip.Addr) bool { return ip == netip.MustParseAddr("192.0.2.10") }
			id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: tc.rcpt, LocalSender: 1}, testMsg)
			e.runOnce(t)
			last, failed := e.q.failedWith(id)
			if !failed || !strings.Contains(last, tc.want) {
				t.Fatalf("failed %v with %q, want %q", failed, last, tc.want)
			}
			if e.drop.count() != 1 || !strings.Contains(e.drop.text(0), tc.want) {
				t.Fatalf("%d bounces; want one that says %q", e.drop.count(), tc.want)
			}
			if len(p.received()) != 0 {
				t.Fatal("the peer got mail")
			}
		})
	}
}

// A refused exchanger does not stop delivery through the next one, nor
// make the mail bounce.
func TestRefusedMXSkipped(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@mixed.test", LocalSender: 1}, testMsg)
	e.runOnce(t)
	if !e.q.delivered(id) || len(p.received()) != 1 || e.drop.count() != 0 {
		t.Fatalf("not delivered through the usable MX: %d received, %d bounces", len(p.received()), e.drop.count())
	}
}

package sendmail_test

import (
	"context"

	"os"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/emersion/go-smtp"
)

// mxEnv is a world with the test zones, a peer on 127.0.0.2 and MXPort set
// to the peer's port.
func mxEnv(t *testing.T) (*env, *peer, *dnsServer) {
	t.Helper()
	d := startDNS(t, "mail.zone")
	p := startPeer(t, peerOpts{host: "127.0.0.2"})
	e := newEnv(t)
	e.cfg.DNSServer = d.Addr
	e.cfg.MXPort = atoi(t, p.port())
	return e, p, d
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Two recipients at one domain whose preferred MX is down: the backup MX
// gets the message once, byte for byte, with both recipients, and both
// queue entries are gone.
func TestMXDeliveryOneTransactionBackupMX(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	id1 := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test", LocalSender: 1}, testMsg)
	id2 := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "ann@example.test", LocalSender: 1}, testMsg)
	if n := e.runOnce(t); n != 2 {
		t.Fatalf("handled %d entries, want 2", n)
	}
	got := p.received()
	if len(got) != 1 {
		t.Fatalf("peer got %d messages, want 1 transaction", len(got))
	}
	if string(got[0].Data) != testMsg {
		t.Errorf("message changed in transit:\n%q\nwant\n%q", got[0].Data, testMsg)
	}
	if got[0].From != "sysop@bbs.example.org" || strings.Join(got[0].Rcpts, ",") != "joe@example.test,ann@example.test" {
		t.Errorf("envelope = %q -> %q", got[0].From, got[0].Rcpts)
	}
	if !e.q.delivered(id1) || !e.q.delivered(id2) {
		t.Error("entries not marked delivered")
	}
	if e.drop.count() != 0 {
		t.Error("a bounce was sent for delivered mail")
	}
}

// A domain with no MX but an address gets mail at that address; an MX
// answer truncated over UDP is fetched again over TCP.
func TestImplicitMXAndTruncatedAnswer(t *testing.T) {
	t.Parallel()
	e, p, d := mxEnv(t)
	d.truncateUDP("big.test.")
	e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@addronly.test"}, testMsg)
	e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@big.test"}, testMsg)
	e.runOnce(t)
	var rcpts []string
	for _, m := range p.received() {
		rcpts = append(rcpts, m.Rcpts...)
	}
	if strings.Join(rcpts, ",") != "joe@addronly.test,joe@big.test" && strings.Join(rcpts, ",") != "joe@big.test,joe@addronly.test" {
		t.Fatalf("delivered to %q", rcpts)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tcpSeen["big.test."] == 0 {
		t.Error("truncated answer was not retried over TCP")
	}
}

// Mail to a domain that does not exist, or that publishes a null MX, or
// that has no mail host at all, bounces at once to the local sender.
func TestUnroutableDomainsBounce(t *testing.T) {
	t.Parallel()
	for _, dom := range []string{"nxdomain.test", "nullmx.test", "nothing.test", "node.f1.n2.z3.fidonet"} {
		t.Run(dom, func(t *testing.T) {
			t.Parallel()
			e, _, _ := mxEnv(t)
			id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@" + dom, LocalSender: 7, Subject: "Hi"}, testMsg)
			e.runOnce(t)
			if _, ok := e.q.failedWith(id); !ok {
				t.Fatal("entry not failed")
			}
			if e.drop.count() != 1 {
				t.Fatalf("%d bounces, want 1", e.drop.count())
			}
			env := e.drop.envs[0]
			if env.ReversePath != "" || len(env.Rcpts) != 1 || env.Rcpts[0].Kind != envelope.KindMailbox || env.Rcpts[0].User != 7 {
				t.Errorf("bounce envelope = %+v", env)
			}
		})
	}
}

// A 4xx answer defers the entry with the first backoff step; once the
// clock passes it, the next pass delivers.
func TestTemporaryFailureRetriedThenDelivered(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	p.failData(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	e.runOnce(t)
	ent, ok := e.q.get(id)
	if !ok || ent.InTransit || ent.Attempts != 1 {
		t.Fatalf("after a 451: %+v (present %v), want deferred once", ent, ok)
	}
	if want := e.clock.Now().Add(time.Minute); !ent.NextAttempt.Equal(want) {
		t.Errorf("next attempt %v, want %v", ent.NextAttempt, want)
	}
	if !strings.Contains(ent.LastError, "451") {
		t.Errorf("last error %q does not name the reply", ent.LastError)
	}
	if n := e.runOnce(t); n != 0 {
		t.Fatalf("retried %d entries before the backoff passed", n)
	}
	e.clock.Advance(time.Minute)
	e.runOnce(t)
	if !e.q.delivered(id) || len(p.received()) != 1 {
		t.Fatal("not delivered on retry")
	}
}

// A 5xx answer to one recipient bounces that recipient to the Internet
// sender at once; the other recipient of the same message is delivered.
func TestPermanentFailureBouncesOnlyThatRecipient(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	p.failRcpt("nobody@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "No such user")
	bad := e.q.add(sendmail.Entry{ReversePath: "fred@far.example", Rcpt: "nobody@example.test", Subject: "Hello"}, testMsg)
	good := e.q.add(sendmail.Entry{ReversePath: "fred@far.example", Rcpt: "joe@example.test", Subject: "Hello"}, testMsg)
	e.runOnce(t)
	if !e.q.delivered(good) {
		t.Error("good recipient not delivered")
	}
	if why, ok := e.q.failedWith(bad); !ok || !strings.Contains(why, "550 5.1.1 No such user") {
		t.Errorf("bad recipient: failed=%v %q", ok, why)
	}
	if e.drop.count() != 1 {
		t.Fatalf("%d bounces, want 1", e.drop.count())
	}
	rc := e.drop.envs[0].Rcpts[0]
	if rc.Kind != envelope.KindRemote || rc.NetType != envelope.NetInternet || rc.NetAddr != "fred@far.example" {
		t.Errorf("bounce goes to %+v", rc)
	}
	msg := string(e.drop.msgs[0])
	for _, want := range []string{"Subject: Delivery failure: Hello", "nobody@example.test", "mx2.example.test", "550 5.1.1 No such user", "Auto-Submitted: auto-replied", "Hello Joe."} {
		if !strings.Contains(msg, want) {
			t.Errorf("bounce lacks %q", want)
		}
	}
}

// The last allowed attempt failing temporarily bounces, naming the
// number of attempts.
func TestBounceAfterAttemptLimit(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	e.cfg.MaxAttempts = 3
	p.failRcpt("joe@example.test", 450, smtp.EnhancedCode{4, 2, 0}, "Mailbox busy")
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test", Attempts: 2, LocalSender: 1}, testMsg)
	e.runOnce(t)
	if _, ok := e.q.failedWith(id); !ok {
		t.Fatal("entry not given up")
	}
	if e.drop.count() != 1 || !strings.Contains(string(e.drop.msgs[0]), "after 3 attempts") {
		t.Fatalf("bounce missing or without the attempt count")
	}
}

// Mail from the null sender, or a delivery notice, is never bounced.
func TestNoBounceForBounces(t *testing.T) {
	t.Parallel()
	notice := "From: Mail Delivery Subsystem <MAILER-DAEMON@elsewhere.test>\r\nSubject: x\r\n\r\nbody\r\n"
	for name, c := range map[string]struct{ rp, msg string }{
		"null sender": {"", testMsg},
		"notice":      {"postmaster@elsewhere.test", notice},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, p, _ := mxEnv(t)
			p.failRcpt("joe@example.test", 550, smtp.EnhancedCode{}, "No")
			id := e.q.add(sendmail.Entry{ReversePath: c.rp, Rcpt: "joe@example.test"}, c.msg)
			e.runOnce(t)
			if _, ok := e.q.failedWith(id); !ok {
				t.Fatal("entry not removed")
			}
			if e.drop.count() != 0 {
				t.Fatal("a bounce was sent for a bounce")
			}
		})
	}
}

// Delivered recipients are added to dnsbl_exempt.cfg once, in Synchronet's
// format; NO_AUTO_EXEMPT writes nothing.
func TestAutoExempt(t *testing.T) {
	t.Parallel()
	e, _, _ := mxEnv(t)
	if err := os.WriteFile(e.cfg.ExemptFile, []byte("; exempt\n*.synchro.net"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	e.runOnce(t)
	e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "Joe@example.test"}, testMsg+"again\r\n")
	e.runOnce(t)
	got, err := os.ReadFile(e.cfg.ExemptFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "; exempt\n*.synchro.net\n;SEND Auto-exempting from sysop@bbs.example.org on Mon Nov 23 10:00:00 2026\n<joe@example.test>\n"
	if string(got) != want {
		t.Errorf("dnsbl_exempt.cfg =\n%s\nwant\n%s", got, want)
	}

	e2, _, _ := mxEnv(t)
	e2.cfg.NoAutoExempt = true
	e2.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	e2.runOnce(t)
	if _, err := os.Stat(e2.cfg.ExemptFile); err == nil {
		t.Error("NO_AUTO_EXEMPT still wrote dnsbl_exempt.cfg")
	}
}

// Entries a crash left in transit are retried once the wiring clears the
// flag; with SEND_INTRANSIT the first pass claims them directly.
func TestCrashRecoveryInTransit(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test", InTransit: true}, testMsg)
	if n := e.runOnce(t); n != 0 {
		t.Fatal("an in-transit entry was sent without SEND_INTRANSIT")
	}
	e.q.clearTransit()
	e.runOnce(t)
	if !e.q.delivered(id) {
		t.Fatal("not delivered after clear-transit")
	}

	e.cfg.SendInTransit = true
	id = e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "ann@example.test", InTransit: true}, testMsg)
	e.runOnce(t)
	if !e.q.delivered(id) || len(p.received()) != 2 {
		t.Fatal("SEND_INTRANSIT did not send the in-transit entry")
	}
}

// Run delivers new mail when woken, and returns when its context ends.
func TestRunWakesForNewMail(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	e.cfg.Now = nil // real time: Run sleeps on real timers
	s := e.sender()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	s.Wake()
	testkit.WaitFor(t, 20*time.Second, "delivery", func() bool { return e.q.delivered(id) })
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if len(p.received()) != 1 {
		t.Fatalf("peer got %d messages", len(p.received()))
	}
}

// A Maildrop that panics while bouncing leaves the entry deferred, not in
// transit.
func TestPanicLeavesNothingInTransit(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	p.failRcpt("joe@example.test", 550, smtp.EnhancedCode{}, "No")
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	s := sendmail.New(e.cfg, sendmail.Deps{Queue: e.q, Maildrop: panicDrop{}})
	if _, err := s.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	ent, ok := e.q.get(id)
	if !ok || ent.InTransit || ent.Attempts != 1 {
		t.Fatalf("entry after a panic: %+v present=%v", ent, ok)
	}
}

type panicDrop struct{}

func (panicDrop) Deliver(context.Context, *envelope.Envelope, []byte) error { panic("boom") }

// A destination written as host:port is used as is, without DNS.
func TestForcedHostPort(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	e := newEnv(t)
	e.cfg.DNSServer = "127.0.0.1:1" // would fail if asked
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@" + p.Addr}, testMsg)
	e.runOnce(t)
	if !e.q.delivered(id) {
		ent, _ := e.q.get(id)
		t.Fatalf("not delivered: %q", ent.LastError)
	}
	if got := p.received(); len(got) != 1 || got[0].Rcpts[0] != "joe@127.0.0.1" {
		t.Fatalf("received %+v", got)
	}

}

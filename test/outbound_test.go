package test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The outbound system tests run SendMail inside the real server: a user
// submits mail on port 587, SendMail asks a test DNS server for the MX,
// and delivers to a peer on 127.0.0.1 at MXPort (or to a relay under
// RELAY_TX). docs/sendmail.md describes the behaviour checked here.

const outboundPW = "0utbound-pw"

// outboundSubmit sends one message from Alice (who must exist) on the
// submission port.
func (b *bbs) outboundSubmit(to []string, subject, body string) {
	b.t.Helper()
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "alice@bbs.test", to: to, subject: subject,
		body: body, auth: []string{"alice", outboundPW}})
}

// Mail to an Internet address goes out by MX: the peer receives it from
// Alice with our EHLO name, trace header added and body unchanged to the
// byte (dot-stuffing undone, trailing spaces and empty lines kept); the
// queue empties, no failure notice is sent, and the recipient is added to
// ctrl/dnsbl_exempt.cfg.
func TestOutboundMXDelivery(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	b, dns := outboundRunning(t, peer.port)

	const body = "First line.\\n.A line that starts with a dot\\n..two dots\\nTrailing spaces   \\n\\n\tTabbed\\nLast line."
	wantBody := []byte(strings.ReplaceAll(body, `\n`, "\r\n") + "\r\n")
	b.outboundSubmit([]string{"user@remote.test"}, "outbound-mx", body)

	var msgs []outboundMsg
	if !routingPoll(30*time.Second, func() bool { msgs = peer.messages(); return len(msgs) > 0 }) {
		t.Fatalf("nothing arrived at the peer; DNS questions: %v", dns.queries())
	}
	m := msgs[0]
	if m.from != "alice@bbs.test" || strings.Join(m.rcpts, ",") != "user@remote.test" || m.helo != "bbs.test" {
		t.Errorf("envelope: EHLO %q, MAIL FROM %q, RCPT TO %v; want bbs.test, alice@bbs.test, [user@remote.test]", m.helo, m.from, m.rcpts)
	}
	header, gotBody, ok := bytes.Cut(m.data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header/body separator in:\n%q", m.data)
	}
	if !bytes.Equal(gotBody, wantBody) {
		t.Errorf("body changed on the way:\ngot  %q\nwant %q", gotBody, wantBody)
	}
	for _, want := range []string{"Subject: outbound-mx", "From: <alice@bbs.test>", "To: <user@remote.test>", "Received: "} {
		if !bytes.Contains(header, []byte(want)) {
			t.Errorf("header lacks %q:\n%s", want, header)
		}
	}

	b.outboundQueueEmpty("the delivery")
	exempt := filepath.Join(b.ctrl, "dnsbl_exempt.cfg")
	var data []byte
	if !routingPoll(30*time.Second, func() bool {
		data, _ = os.ReadFile(exempt)
		return bytes.Contains(data, []byte("\n<user@remote.test>"))
	}) {
		t.Errorf("dnsbl_exempt.cfg did not gain <user@remote.test>:\n%s", data)
	}
	if _, ok := routingRowWith(b.routingMailbox("alice"), "Delivery failure"); ok {
		t.Error("Alice got a failure notice for a delivered message")
	}
	if len(peer.messages()) != 1 {
		t.Errorf("the peer received %d messages, want 1", len(peer.messages()))
	}
}

// A permanent refusal by the receiving server (smtp-sink answering RCPT
// with 5xx) sends the local sender a failure notice that names the
// recipient and the remote reply, and removes the entry from the queue.
func TestOutboundPermanentFailure(t *testing.T) {
	t.Parallel()
	sink := startOutboundSink(t, 0, "-f", "RCPT")
	b, _ := outboundRunning(t, sink.port)
	b.outboundSubmit([]string{"nobody@remote.test"}, "outbound-5xx", "This will bounce.")

	var rows []string
	if !routingPoll(30*time.Second, func() bool {
		rows = b.routingMailbox("alice")
		_, ok := routingRowWith(rows, "Delivery failure")
		return ok
	}) {
		t.Fatalf("no failure notice in Alice's mailbox:\n%s\nqueue:\n%s", strings.Join(rows, "\n"), strings.Join(b.routingQueue(), "\n"))
	}
	row, _ := routingRowWith(rows, "Delivery failure")
	notice := b.must("mail", "read", "alice", routingFields(row)[0])
	for _, want := range []string{"Subject: Delivery failure: outbound-5xx", "MAILER-DAEMON@bbs.test", "nobody@remote.test", "5.3.0", "This will bounce."} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice lacks %q:\n%s", want, notice)
		}
	}
	b.outboundQueueEmpty("the bounce")
	if data, _ := os.ReadFile(filepath.Join(b.ctrl, "dnsbl_exempt.cfg")); bytes.Contains(data, []byte("nobody@remote.test")) {
		t.Errorf("a refused recipient was exempted:\n%s", data)
	}
}

// A zone cannot send SendMail back to this machine or into the LAN when
// the sysop forbids it: with MXPort at its production value 25, an MX on
// loopback and (with SendMailRefusePrivate) an implicit MX on a private
// address fail at once, without a connection, and the sender's notice
// names the address.
func TestOutboundMXToUnroutableAddress(t *testing.T) {
	t.Parallel()
	dns := startOutboundDNS(t, append(outboundMXRecords("remote.test"), "lan.test. 60 IN A 10.1.2.3"))
	b := outboundBBS(t, dns, 0)
	b.mail["SendMailRefusePrivate"] = "true"
	b.start()
	b.addUser("Sysop", outboundPW)
	b.addUser("Alice", outboundPW)
	b.outboundSubmit([]string{"joe@remote.test"}, "to-loopback", "Loops.")
	b.outboundSubmit([]string{"joe@lan.test"}, "to-lan", "Private.")

	want := map[string]string{
		"to-loopback": "MX mx.remote.test for remote.test points to 127.0.0.1: not a routable address (loopback)",
		"to-lan":      "lan.test points to 10.1.2.3: a private address (SendMailRefusePrivate)",
	}
	rows := b.outboundNotices("to-loopback", "to-lan")
	for subject, reason := range want {
		row, _ := routingRowWith(rows, "Delivery failure: "+subject)
		if notice := b.must("mail", "read", "alice", routingFields(row)[0]); !strings.Contains(notice, reason) {
			t.Errorf("the notice for %s lacks %q:\n%s", subject, reason, notice)
		}
	}
	b.outboundQueueEmpty("the two bounces")
}

// What the DNS says decides the route: a domain with only an address
// record is its own mail exchanger (implicit MX); NXDOMAIN and a null MX
// (RFC 7505) send the sender a failure notice at once, nothing stays
// queued, and the peer gets only the deliverable message.
func TestOutboundDNSAnswers(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	dns := startOutboundDNS(t, []string{
		"implicit.test. 60 IN A 127.0.0.1",
		"nullmx.test. 60 IN MX 0 .",
	})
	b := outboundBBS(t, dns, peer.port)
	b.start()
	b.addUser("Sysop", outboundPW)
	b.addUser("Alice", outboundPW)
	b.outboundSubmit([]string{"joe@implicit.test"}, "to-implicit", "Implicit MX.")
	b.outboundSubmit([]string{"joe@nxdomain.test"}, "to-nxdomain", "No such domain.")
	b.outboundSubmit([]string{"joe@nullmx.test"}, "to-nullmx", "Null MX.")

	rows := b.outboundNotices("to-nxdomain", "to-nullmx")
	b.outboundQueueEmpty("the three messages")
	msgs := peer.messages()
	if len(msgs) != 1 || strings.Join(msgs[0].rcpts, ",") != "joe@implicit.test" {
		var got []string
		for _, m := range msgs {
			got = append(got, fmt.Sprint(m.rcpts))
		}
		t.Errorf("the peer got %v, want only joe@implicit.test", got)
	}
	if len(rows) != 2 {
		t.Errorf("want exactly the two notices in Alice's mailbox:\n%s", strings.Join(rows, "\n"))
	}
}

// A temporary refusal (smtp-sink answering RCPT with 4xx) keeps the entry
// queued after one attempt with the remote reply as its last error. `queue
// drop` removes one entry without a notice; `queue retry` makes the other
// due at once, and once the peer answers 250 it is delivered.
func TestOutboundTemporaryFailure(t *testing.T) {
	t.Parallel()
	sink := startOutboundSink(t, 0, "-r", "RCPT")
	b, _ := outboundRunning(t, sink.port)
	b.outboundSubmit([]string{"later@remote.test"}, "retry-me", "Delivered on the second attempt.")
	b.outboundSubmit([]string{"gone@remote.test"}, "drop-me", "Never delivered.")

	deferred := func(f []string) bool {
		return len(f) == 9 && f[5] == "1" && f[7] == "waiting" && strings.Contains(f[8], "450")
	}
	retry := b.outboundQueueRow("later@remote.test", "the first attempt to later@ to fail", deferred)
	drop := b.outboundQueueRow("gone@remote.test", "the first attempt to gone@ to fail", deferred)

	if out := b.must("queue", "drop", drop[0]); !strings.Contains(out, "queue entry "+drop[0]+" dropped") {
		t.Errorf("queue drop said %q", out)
	}
	sink.stop()
	sink = startOutboundSink(t, sink.port)
	if out := b.must("queue", "retry", retry[0]); !strings.Contains(out, "queue entry "+retry[0]+" is due now") {
		t.Errorf("queue retry said %q", out)
	}
	b.outboundQueueEmpty("the retried delivery")
	var dumps []string
	if !routingPoll(30*time.Second, func() bool { dumps = sink.dumps(); return len(dumps) > 0 && strings.Contains(dumps[0], "retry-me") }) {
		t.Fatalf("the retried message did not reach smtp-sink: %q", dumps)
	}
	for _, d := range dumps {
		if strings.Contains(d, "drop-me") {
			t.Error("the dropped message was delivered")
		}
	}
	if _, ok := routingRowWith(b.routingMailbox("alice"), "Delivery failure"); ok {
		t.Error("Alice got a failure notice for a retried or dropped message")
	}
}

// Under RELAY_TX all mail goes to RelayServer:RelayPort, logged in with
// AUTH PLAIN as RelayUsername, whatever the recipients' domains, and no MX
// is looked up.
func TestOutboundRelayAuth(t *testing.T) {
	t.Parallel()
	relay, dns, b := outboundRelayBBS(t, "relay-secret")
	b.outboundSubmit([]string{"one@remote.test", "two@elsewhere.test"}, "via-relay", "Relayed.")

	var got []string
	var msgs []outboundMsg
	if !routingPoll(30*time.Second, func() bool {
		msgs, got = relay.messages(), nil
		for _, m := range msgs {
			got = append(got, m.rcpts...)
		}
		return len(got) >= 2
	}) {
		t.Fatalf("the relay received %v; queue:\n%s", got, strings.Join(b.routingQueue(), "\n"))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "one@remote.test,two@elsewhere.test" {
		t.Errorf("relay recipients %v", got)
	}
	for _, m := range msgs {
		if m.authUser != "bbsrelay" || m.from != "alice@bbs.test" || !bytes.Contains(m.data, []byte("Subject: via-relay")) {
			t.Errorf("relay saw AUTH %q, MAIL FROM %q, message:\n%s", m.authUser, m.from, m.data)
		}
	}
	b.outboundQueueEmpty("the relayed delivery")
	if q := dns.queries(); len(q) != 0 {
		t.Errorf("RELAY_TX looked up %v", q)
	}
}

// Under RELAY_TX the recipients of one message share a transaction
// (docs/sendmail.md): their queued copies carry one trace without a "for"
// clause, so SendMail groups them.
func TestOutboundRelayOneTransaction(t *testing.T) {
	t.Parallel()
	relay, _, b := outboundRelayBBS(t, "relay-secret")
	b.outboundSubmit([]string{"one@remote.test", "two@elsewhere.test"}, "one-transaction", "Relayed once.")
	b.outboundQueueEmpty("the relayed delivery")
	msgs := relay.messages()
	if len(msgs) != 1 || len(msgs[0].rcpts) != 2 {
		var tx []string
		for _, m := range msgs {
			tx = append(tx, fmt.Sprint(m.rcpts))
		}
		t.Errorf("the relay got %d transactions %v, want one with both recipients", len(msgs), tx)
	}
}

// outboundRelayBBS starts a relay requiring AUTH PLAIN as bbsrelay with
// password relay-secret, and a server relaying through it with password.
func outboundRelayBBS(t *testing.T, password string) (*outboundPeer, *outboundDNS, *bbs) {
	t.Helper()
	relay := startOutboundPeer(t, "bbsrelay", "relay-secret")
	dns := startOutboundDNS(t, nil)
	b := outboundBBS(t, dns, 0)
	b.mail["Options"] = outboundOptions + " | RELAY_TX | RELAY_AUTH_PLAIN"
	b.mail["RelayServer"] = "127.0.0.1"
	b.mail["RelayPort"] = itoa(relay.port)
	b.mail["RelayUsername"] = "bbsrelay"
	b.mail["RelayPassword"] = password
	b.start()
	b.addUser("Sysop", outboundPW)
	b.addUser("Alice", outboundPW)
	return relay, dns, b
}

// A relay that refuses our login defers the mail with the reply as last
// error; the entry is not left in transit.
func TestOutboundRelayAuthRefused(t *testing.T) {
	t.Parallel()
	relay, _, b := outboundRelayBBS(t, "wrong")
	b.outboundSubmit([]string{"one@remote.test"}, "relay-refused", "Not relayed.")
	b.outboundQueueRow("one@remote.test", "the relay login to fail", func(f []string) bool {
		return len(f) == 9 && f[5] == "1" && f[7] == "waiting" && strings.Contains(f[8], "535")
	})
	if n := len(relay.messages()); n != 0 {
		t.Errorf("the relay accepted %d messages without a login", n)
	}
}

// Entries left in transit by a crash (SIGKILL while the peer holds the
// transaction open) are retried by the next start, which says so in the
// log, and delivered once; `queue clear-transit` run while the server is
// down clears the flag the same way and says how many entries it freed.
func TestOutboundInTransitRecovery(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	b, _ := outboundRunning(t, peer.port)

	crash := func(subject string) {
		t.Helper()
		peer.holdMail()
		b.outboundSubmit([]string{"held@remote.test"}, subject, "Held in transit.")
		waitFor(t, 30*time.Second, "SendMail to reach the peer", func() bool { return peer.holding() == 1 })
		b.outboundQueueRow("held@remote.test", subject+" in transit", func(f []string) bool { return len(f) == 9 && f[7] == "in-transit" })
		b.kill()
		peer.release()
	}

	// Restart recovers on its own.
	crash("transit-1")
	b.start()
	waitFor(t, 30*time.Second, "the restart to report the entry", func() bool {
		return b.logContains("1 messages left in transit by the last run will be retried")
	})
	b.outboundQueueEmpty("the delivery after the restart")

	// The sysop clears the flag while the server is down.
	crash("transit-2")
	rows := b.routingQueue()
	if _, ok := routingRowWith(rows, "held@remote.test", "in-transit"); !ok {
		t.Fatalf("queue list after the crash:\n%s", strings.Join(rows, "\n"))
	}
	if out := b.must("queue", "clear-transit"); !strings.Contains(out, "1 entries no longer in transit") {
		t.Errorf("queue clear-transit said %q", out)
	}
	if _, ok := routingRowWith(b.routingQueue(), "held@remote.test", "waiting"); !ok {
		t.Errorf("the entry is not waiting after clear-transit:\n%s", strings.Join(b.routingQueue(), "\n"))
	}
	b.start()
	b.outboundQueueEmpty("the delivery after clear-transit")

	count := map[string]int{}
	for _, m := range peer.messages() {
		for _, s := range []string{"transit-1", "transit-2"} {
			if bytes.Contains(m.data, []byte("Subject: "+s)) {
				count[s]++
			}
		}
	}
	if count["transit-1"] != 1 || count["transit-2"] != 1 {
		t.Errorf("deliveries per message: %v, want each exactly once", count)
	}
}

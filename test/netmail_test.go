package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNetmailOwnAddress sends mail over SMTP to our own FTN address: it
// lands in the user's POP3 mailbox and nothing is written to the
// outbound. An unknown name there goes to the sysop, as inbound netmail
// does.
func TestNetmailOwnAddress(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingFTN("1:2/3")
	b.mail["FidoUplink"] = "1:2/1"
	b.mail["FidoFrequency"] = "1h"
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Bob", routingPW, "--realname", "Bob Smith")

	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"bob.smith@f3.n2.z1.fidonet"},
		subject: "Note to self", body: "Netmail to my own node.\n", auth: []string{"bob", routingPW}})
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"nobody.here@p0.f3.n2.z1.fidonet"},
		subject: "For nobody", body: "Who reads this?\n", auth: []string{"bob", routingPW}})
	got := python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Bob", routingPW)
	if !strings.Contains(got, "Subject: Note to self") || !strings.Contains(got, "Netmail to my own node.") {
		t.Errorf("Bob's mailbox lacks the netmail:\n%s", got)
	}
	got = python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Sysop", routingPW)
	if !strings.Contains(got, "Subject: For nobody") {
		t.Errorf("the sysop's mailbox lacks the netmail for an unknown name:\n%s", got)
	}
	if list := b.must("netmail", "list"); strings.Contains(list, "1:2/3") {
		t.Errorf("the netmail to our own address is in the export queue:\n%s", list)
	}
	out, _ := filepath.Glob(filepath.Join(b.root, "fido", "outbound*", "*"))
	if len(out) != 0 {
		t.Errorf("the outbound holds %v", out)
	}
}

// TestFidoNetBounceUnknown: with FidoUnknownUser = bounce, netmail that
// crashmail routes to the BBS for a name nobody has goes back to its
// sender: a netmail from our address to the sender's, subject "Unknown
// user: NAME", quoting the original, in the uplink's outbound packet, and
// crashmail tosses it into its netmail area. SMTP mail to an unknown name
// at our own address is refused.
func TestFidoNetBounceUnknown(t *testing.T) {
	t.Parallel()
	up := newUplink(t)
	b := uplinkedBBS(t, map[string]string{"FidoUnknownUser": "bounce"})
	inPkt := b.fidoInbound(up.write("Nobody Here", "Hello stranger", "Is anybody there?\n"), "0b0c0d0e.pkt")
	b.must("netmail", "scan")
	outbound := filepath.Join(b.root, "fido", "outbound", "00020001.out")
	waitFor(t, 30*time.Second, "the bounce in the outbound for 1:2/1", func() bool { return fileExists(outbound) })
	if fileExists(inPkt) {
		t.Errorf("the inbound packet is still there")
	}
	got := python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Sysop", routingPW)
	if strings.Contains(got, "Hello stranger") {
		t.Errorf("the sysop got the netmail that was to bounce:\n%s", got)
	}

	bounce, err := os.ReadFile(outbound)
	if err != nil {
		t.Fatal(err)
	}
	m := up.tossOne(bounce, "0bounce0.pkt")
	text := string(m.text)
	if !strings.EqualFold(m.to, "Uplink Sysop") || m.from != "Sysop" || m.subject != "Unknown user: Nobody Here" {
		t.Errorf("bounce from %q to %q, subject %q", m.from, m.to, m.subject)
	}
	for _, k := range []string{"\x01INTL 1:2/1 1:2/3", "\x01MSGID: 1:2/3 ", "Nobody Here", "> Is anybody there?", "Subject: Hello stranger"} {
		if !strings.Contains(text, k) {
			t.Errorf("the bounce lacks %q:\n%q", k, text)
		}
	}

	// SMTP to an unknown name at our own address is refused at RCPT.
	res := b.routingSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"nobody.here@f3.n2.z1.fidonet"},
		subject: "x", body: "x\n", auth: []string{"bob", routingPW}})
	if !strings.Contains(res, "REFUSED") || !strings.Contains(res, "550") {
		t.Errorf("unknown name at our own address: %s", res)
	}
}

// TestNetmailList follows netmail through `bbsmail netmail list` on a
// running server: queued while the mailer holds the uplink's .bsy lock,
// packed into the outbound packet (and the QWK hub's REP) once exported,
// sent once the mailer (or the call-out) removed the packet.
func TestNetmailList(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingFTN("1:2/3")
	b.routingSetIni("msgs.ini", "qhub:VERT", "enabled", "true")
	b.mail["FidoUplink"] = "1:2/1"
	b.mail["FidoFrequency"] = "1h"
	outDir := filepath.Join(b.root, "fido", "outbound")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bsy := filepath.Join(outDir, "00020001.bsy")
	if err := os.WriteFile(bsy, []byte("binkd 4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Bob", routingPW)
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"uplink.sysop@f1.n2.z1.fidonet"},
		subject: "fido one", body: "x\n", auth: []string{"bob", routingPW}})
	row := func(subject string) string {
		for _, r := range routingRows(b.must("netmail", "list")) {
			if strings.Contains(r, subject) {
				return r
			}
		}
		return ""
	}
	// state reports whether the row of subject is in state, with packet.
	state := func(subject, state, packet string) bool {
		f := strings.Fields(row(subject))
		return slices.Contains(f, state) && slices.Contains(f, packet)
	}
	if !state("fido one", "queued", "-") {
		t.Fatalf("while the uplink is busy: %q", row("fido one"))
	}

	// The mailer lets go: the export packs the netmail.
	os.Remove(bsy)
	b.must("netmail", "export")
	packet := filepath.Join(outDir, "00020001.out")
	waitFor(t, 30*time.Second, "the netmail packed into "+packet, func() bool {
		return state("fido one", "packed", packet)
	})
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"VERT!sysop@bbs.test"},
		subject: "qwk one", body: "x\n", auth: []string{"bob", routingPW}})
	rep := filepath.Join(b.root, "data", "qnet", "VERT.rep")
	waitFor(t, 30*time.Second, "the QWK netmail packed into "+rep, func() bool {
		return state("qwk one", "packed", rep)
	})

	// binkd deletes the packet once sent; the call-out deletes the REP.
	if err := os.Remove(packet); err != nil {
		t.Fatal(err)
	}
	if !state("fido one", "sent", packet) {
		t.Errorf("after the packet left the outbound: %q", row("fido one"))
	}
	if !state("qwk one", "packed", rep) {
		t.Errorf("the REP is still there: %q", row("qwk one"))
	}
	if err := os.Remove(rep); err != nil {
		t.Fatal(err)
	}
	if !state("qwk one", "sent", rep) {
		t.Errorf("after the REP was taken: %q", row("qwk one"))
	}
}

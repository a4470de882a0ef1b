package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The routing system tests send mail with Python's smtplib to a running
// server and look, with the command line, where each message landed: a
// mailbox, a sub-board, the netmail list or the outbound queue. They follow
// docs/addressing.md step by step.

const routingPW = "r0uting-pw"

// A user who forwards gets Internet mail forwarded to the netmail address
// (queued, not in the mailbox, with a telegram saying so); local: keeps a
// copy home; forward: sends any user's mail to the netmail address; a user
// without an Internet netmail address keeps forward: mail in the mailbox,
// and so does one whose netmail address is on this system (no loop).
func TestRoutingForwarding(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW, "--netmail", "alice@example.org")
	b.must("user", "set", "--forward=true", "alice")
	b.addUser("Bob", routingPW, "--netmail", "bob@example.org")
	b.addUser("Carol", routingPW)
	b.addUser("Dave", routingPW, "--netmail", "dave@BBS.TEST")
	b.must("user", "set", "--forward=true", "dave")

	send := func(to, subject string) {
		t.Helper()
		b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{to}, subject: subject})
	}
	send("alice@bbs.test", "fwd-by-user")
	send("local:alice@bbs.test", "kept-by-local-prefix")
	send("forward:bob@bbs.test", "fwd-by-prefix")
	send("bob@bbs.test", "bob-plain")
	send("forward:carol@bbs.test", "forward-prefix-nowhere")
	send("dave@bbs.test", "forward-to-self")

	rows := b.routingQueue()
	if len(rows) != 2 {
		t.Fatalf("queue holds %d entries, want the 2 forwards:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, addr := range []string{"alice@example.org", "bob@example.org"} {
		if _, ok := routingRowWith(rows, "joe@example.org", addr); !ok {
			t.Errorf("no queue entry from joe@example.org to %s:\n%s", addr, strings.Join(rows, "\n"))
		}
	}
	alice := b.routingMailbox("alice")
	if len(alice) != 1 || !strings.Contains(alice[0], "kept-by-local-prefix") {
		t.Errorf("alice's mailbox should hold only the local: message:\n%s", strings.Join(alice, "\n"))
	}
	bob := b.routingMailbox("bob")
	if len(bob) != 1 || !strings.Contains(bob[0], "bob-plain") {
		t.Errorf("bob's mailbox should hold only the plain message:\n%s", strings.Join(bob, "\n"))
	}
	b.routingWantMail("carol", "forward-prefix-nowhere")
	b.routingWantMail("dave", "forward-to-self")
	if tg := b.must("telegram", "list", "alice"); !strings.Contains(tg, "was forwarded to alice@example.org") {
		t.Errorf("alice was not told about the forward:\n%s", tg)
	}
}

// Without "Allow Forwarding to NetMail" (main.ini settings bit 26) nothing
// is forwarded: the forwarding user and forward: both reach the mailbox.
func TestRoutingForwardingNotAllowed(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingSysMisc(0, smForwardToNet)
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW, "--netmail", "alice@example.org")
	b.must("user", "set", "--forward=true", "alice")
	for _, to := range []string{"alice@bbs.test", "forward:alice@bbs.test"} {
		b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{to}, subject: "to " + to})
	}
	if rows := b.routingQueue(); len(rows) != 0 {
		t.Fatalf("mail was queued although forwarding is off:\n%s", strings.Join(rows, "\n"))
	}
	rows := b.routingMailbox("alice")
	for _, s := range []string{"to alice@bbs.test", "to forward:alice@bbs.test"} {
		if _, ok := routingRowWith(rows, s); !ok {
			t.Errorf("%q is not in alice's mailbox:\n%s", s, strings.Join(rows, "\n"))
		}
	}
}

// sub:<code> posts on the sub-board (any case, or through an alias.cfg
// line such as "cnnreport sub:LOCAL-GENERAL"), addressed to PostTo; an
// unknown code is refused with its name; a telegram cannot post.
func TestRoutingSubBoardPost(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingAppend("alias.cfg", "cnnreport\tsub:LOCAL-GENERAL")
	b.mail["PostTo"] = "Everybody"
	b.start()
	b.addUser("Sysop", routingPW)

	send := func(to, subject string) {
		t.Helper()
		b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{to}, subject: subject,
			body: "Posted by mail.\\nSecond line."})
	}
	send("sub:LOCAL-GENERAL@bbs.test", "post-upper")
	send("sub:local-general@bbs.test", "post-lower")
	send("cnnreport@bbs.test", "post-by-alias")
	b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sub:NOPE@bbs.test"}, subject: "nope"},
		"550 5.1.1 Unknown sub-board: NOPE")

	rows := routingRows(b.must("sub", "list", "LOCAL-GENERAL"))
	if len(rows) != 3 {
		t.Fatalf("LOCAL-GENERAL holds %d posts, want 3:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, s := range []string{"post-upper", "post-lower", "post-by-alias"} {
		if _, ok := routingRowWith(rows, s, "Everybody"); !ok {
			t.Errorf("no post %q to Everybody:\n%s", s, strings.Join(rows, "\n"))
		}
	}
	text := b.must("sub", "read", "LOCAL-GENERAL", routingFields(rows[0])[0])
	if !strings.Contains(text, "Posted by mail.\r\nSecond line.") {
		t.Errorf("sub read does not show the body:\n%s", text)
	}
	if rows := b.routingMailbox("sysop"); len(rows) != 0 {
		t.Errorf("a post also reached the sysop's mailbox:\n%s", strings.Join(rows, "\n"))
	}

	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("SOML FROM:<joe@example.org>")
	c.expect("250 ")
	c.send("RCPT TO:<sub:LOCAL-GENERAL@bbs.test>")
	c.expect("550 5.1.1 Unknown User: <sub:LOCAL-GENERAL@bbs.test>")
}

// Without PostTo a post is addressed to the To header's name, else "All"
// (docs/addressing.md step 6).
func TestRoutingSubBoardAddressee(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Sysop", routingPW)
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sub:LOCAL-GENERAL@bbs.test"},
		subject: "to-named", headers: []string{`To: "General Readers" <sub:LOCAL-GENERAL@bbs.test>`}})
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sub:LOCAL-GENERAL@bbs.test"},
		subject: "to-nobody", headers: []string{"To: <sub:LOCAL-GENERAL@bbs.test>"}})
	rows := routingRows(b.must("sub", "list", "LOCAL-GENERAL"))
	for _, want := range [][2]string{{"to-named", "General Readers"}, {"to-nobody", "All"}} {
		if _, ok := routingRowWith(rows, want[0], want[1]); !ok {
			t.Errorf("post %q should be addressed to %q:\n%s", want[0], want[1], strings.Join(rows, "\n"))
		}
	}
}

// route!user through a configured QWKnet hub (msgs.ini [qhub:VERT]) is
// QWK netmail with the route, whatever the domain part and the case; a
// route through anything else, the system's own QWK-ID included, is an
// unknown user.
func TestRoutingQWK(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Sysop", routingPW)
	for _, to := range []string{"VERT!someone@bbs.test", "VERT/NODE!someone@bbs.test", "vert!Other.Person@bbs.test"} {
		b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{to}, subject: "qwk " + to})
	}
	b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"OTHER!someone@bbs.test"}, subject: "x"},
		"550 5.1.1 Unknown User: <OTHER!someone@bbs.test>")
	// The system's own QWK-ID is not a hub: <qwkid>!user is not local mail
	// (docs/main-ini.md), as in Synchronet.
	b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"MYBBS!sysop@bbs.test"}, subject: "x"},
		"550 5.1.1 Unknown User: <MYBBS!sysop@bbs.test>")

	rows := routingRows(b.must("netmail", "list"))
	if len(rows) != 3 {
		t.Fatalf("netmail list has %d entries, want 3:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, want := range [][]string{
		{"qwknet", " VERT ", "someone", "qwk VERT!someone@bbs.test"},
		{"qwknet", " VERT/NODE ", "someone", "qwk VERT/NODE!someone@bbs.test"},
		{"qwknet", " vert ", "Other.Person", "qwk vert!Other.Person@bbs.test"},
	} {
		if _, ok := routingRowWith(rows, want...); !ok {
			t.Errorf("no netmail entry with %q:\n%s", want, strings.Join(rows, "\n"))
		}
	}
	if q := b.routingQueue(); len(q) != 0 {
		t.Errorf("QWK netmail went to the Internet queue:\n%s", strings.Join(q, "\n"))
	}
}

// With a FidoNet address of its own the system accepts .fidonet addresses
// from an authenticated user as netmail to the node (or point); an
// unauthenticated client, a user with restriction M and zone 0 are refused
// like relay attempts.
func TestRoutingFidoNet(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	// 1:103/705 is another node: netmail to our own address is delivered
	// here (TestNetmailOwnAddress).
	b.routingFTN("1:103/1")
	// A mailer's busy flags on both destinations keep the netmail in the
	// mailbase, where netmail list shows how it was routed.
	for _, bsy := range []string{"006702c1.bsy", "006702c1.pnt/00000002.bsy"} {
		path := filepath.Join(b.root, "fido", "outbound", bsy)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("binkd\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW)
	b.addUser("Mallory", routingPW)
	b.must("user", "set", "--restrict-m=true", "mallory")

	auth := func(to, subject string) routingMsg {
		return routingMsg{port: b.ports.Submission, from: "alice@bbs.test", to: []string{to}, subject: subject, auth: []string{"alice", routingPW}}
	}
	b.routingMustSend(auth("rob.swindell@f705.n103.z1.fidonet", "fido-node"))
	b.routingMustSend(auth("Rob_Swindell@p2.f705.n103.z1.fidonet", "fido-point"))
	b.routingRefused(auth("x@f1.n2.z0.fidonet", "zone-0"), "550 5.7.1 Relay not allowed.")
	b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"rob.swindell@f705.n103.z1.fidonet"}, subject: "unauth"},
		"550 5.7.1 Relay not allowed.")
	b.routingRefused(routingMsg{port: b.ports.Submission, from: "mallory@bbs.test", to: []string{"rob.swindell@f705.n103.z1.fidonet"},
		subject: "restricted", auth: []string{"mallory", routingPW}}, "550 5.7.1 Relay not allowed.")

	rows := routingRows(b.must("netmail", "list"))
	if len(rows) != 2 {
		t.Fatalf("netmail list has %d entries, want 2:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, want := range [][]string{
		{"fidonet", " 1:103/705 ", "rob swindell", "fido-node"},
		{"fidonet", " 1:103/705.2 ", "Rob Swindell", "fido-point"},
	} {
		if _, ok := routingRowWith(rows, want...); !ok {
			t.Errorf("no netmail entry with %q:\n%s", want, strings.Join(rows, "\n"))
		}
	}
	if q := b.routingQueue(); len(q) != 0 {
		t.Errorf("FidoNet mail went to the Internet queue:\n%s", strings.Join(q, "\n"))
	}
}

// Without a FidoNet address a .fidonet recipient is refused at once, even
// for an authenticated user who may relay, and the domain is never looked
// up: the DNS server SendMail uses sees ordinary Internet mail but no
// .fidonet name.
func TestRoutingFidoNetWithoutAddress(t *testing.T) {
	t.Parallel()
	dns := startOutboundDNS(t, nil)
	b := newBBS(t)
	b.mail["Options"] = "USE_SUBMISSION_PORT | NO_HOST_LOOKUP"
	b.mail["DNSServer"] = dns.addr
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW)
	auth := func(to, subject string) routingMsg {
		return routingMsg{port: b.ports.Submission, from: "alice@bbs.test", to: []string{to}, subject: subject, auth: []string{"alice", routingPW}}
	}
	b.routingRefused(auth("rob.swindell@f705.n103.z1.fidonet", "fido"), "550 5.7.1 Relay not allowed.")
	// Internet mail from the same user is queued and looked up: proof that
	// a lookup would have been seen.
	b.routingMustSend(auth("joe@nowhere.test", "internet"))
	waitFor(t, 30*time.Second, "SendMail to look up nowhere.test", func() bool { return dns.asked("nowhere.test.") })
	if q := dns.queries(); strings.Contains(strings.ToLower(strings.Join(q, " ")), "fidonet") {
		t.Errorf("a .fidonet name was looked up: %v", q)
	}
	if rows := routingRows(b.must("netmail", "list")); len(rows) != 0 {
		t.Errorf("netmail was stored:\n%s", strings.Join(rows, "\n"))
	}
}

// alias.cfg values: a local-part alias to a sub-board, a whole domain
// substituted (*@old.test *@bbs.test, with old.test in domains.cfg), a
// forced relay that even an unauthenticated sender may use, a QWK route,
// and a whole address to a user.
func TestRoutingAliases(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingAppend("alias.cfg",
		"cnnreport\tsub:LOCAL-GENERAL",
		"*@old.test\t*@bbs.test",
		"fwd\tx@example.org",
		"vertsysop\tVERT!sysop",
		"info@bbs.test\tAlice")
	b.routingAppend("domains.cfg", "old.test")
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW)
	for _, to := range []string{"cnnreport@bbs.test", "alice@old.test", "fwd@bbs.test", "vertsysop@bbs.test", "info@bbs.test"} {
		b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{to}, subject: "via " + to})
	}
	if _, ok := routingRowWith(routingRows(b.must("sub", "list", "LOCAL-GENERAL")), "via cnnreport@bbs.test"); !ok {
		t.Error("cnnreport did not post on LOCAL-GENERAL")
	}
	rows := b.routingMailbox("alice")
	for _, s := range []string{"via alice@old.test", "via info@bbs.test"} {
		if _, ok := routingRowWith(rows, s); !ok {
			t.Errorf("%q is not in alice's mailbox:\n%s", s, strings.Join(rows, "\n"))
		}
	}
	q := b.routingQueue()
	if len(q) != 1 || !strings.Contains(q[0], "x@example.org") {
		t.Errorf("want only the forced relay to x@example.org queued:\n%s", strings.Join(q, "\n"))
	}
	if _, ok := routingRowWith(routingRows(b.must("netmail", "list")), "qwknet", " VERT ", "sysop", "via vertsysop@bbs.test"); !ok {
		t.Error("vertsysop did not become QWK netmail to sysop via VERT")
	}
	if rows := b.routingMailbox("sysop"); len(rows) != 0 {
		t.Errorf("aliased mail reached the sysop's mailbox:\n%s", strings.Join(rows, "\n"))
	}
}

// 1@bbs.test reaches user #1 only with ALLOW_RX_BY_NUMBER; otherwise it is
// an unknown user. A number nobody has is unknown either way.
func TestRoutingRxByNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		options string
		want    bool
	}{
		{"off", "USE_SUBMISSION_PORT | NO_HOST_LOOKUP | NO_SENDMAIL", false},
		{"on", "USE_SUBMISSION_PORT | NO_HOST_LOOKUP | NO_SENDMAIL | ALLOW_RX_BY_NUMBER", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.mail["Options"] = c.options
			b.start()
			b.addUser("Sysop", routingPW)
			one := routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"1@bbs.test"}, subject: "by-number"}
			if c.want {
				b.routingMustSend(one)
				b.routingWantMail("sysop", "by-number")
			} else {
				b.routingRefused(one, "550 5.1.1 Unknown User: <1@bbs.test>")
			}
			b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"99@bbs.test"}, subject: "x"},
				"550 5.1.1 Unknown User: <99@bbs.test>")
		})
	}
}

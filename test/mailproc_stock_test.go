package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
)

// stockSample is Synchronet's own sample tree beside the project
// (ctrl/, text/, exec/), a test fixture that is read, never copied into
// the project; tests that need it skip without it.
func stockSample(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "synchronet-sample"))
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "exec", "mailauth.js"))
	}
	if err != nil {
		t.Skipf("Synchronet's sample tree is not available (../shared/synchronet-sample): %v", err)
	}
	return dir
}

// stockProcessors puts Synchronet's stock exec/ scripts into the test's
// BBS tree and the named sections of the stock mailproc.ini, as shipped,
// into its ctrl/mailproc.ini.
func stockProcessors(t *testing.T, b *bbs, sections ...string) {
	t.Helper()
	sample := stockSample(t)
	if err := copyTree(filepath.Join(sample, "exec"), filepath.Join(b.root, "exec")); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile(filepath.Join(sample, "ctrl", "mailproc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	keep := false
	for _, line := range strings.Split(string(ini), "\n") {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "[") {
			keep = false
			for _, want := range sections {
				keep = keep || strings.EqualFold(s, "["+want+"]")
			}
		}
		if keep {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no section %v in the stock mailproc.ini", sections)
	}
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), strings.Join(out, "\n")+"\n")
}

// Synchronet's stock mailauth.js, configured as the stock mailproc.ini
// does, runs on mail received over SMTP (Python's smtplib): a client that
// claims the BBS's own domain without authenticating gets the script's
// text as the reply to DATA and nothing is stored; the same sender after
// AUTH, and mail from a foreign domain, are delivered. The client connects
// from 127.0.0.2: the script trusts 127.0.0.1 as the BBS itself.
func TestMailprocStockMailauth(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	stockProcessors(t, b, "MailAuth")
	b.start()
	b.addUser("Digital Man", "Auth-Pass-1")

	out := b.routingSend(routingMsg{port: b.ports.SMTP, source: "127.0.0.2", from: "sysop@bbs.test",
		to: []string{"digital.man@bbs.test"}, subject: "forged local sender"})
	if !strings.HasPrefix(out, "DATA-REFUSED 5") || !strings.Contains(out, "Mail deliveries from bbs.test must use SMTP-AUTH") {
		t.Errorf("an unauthenticated client claiming bbs.test got %q, want mailauth.js's refusal", out)
	}
	if _, ok := routingRowWith(b.routingMailbox("Digital Man"), "forged local sender"); ok {
		t.Error("the refused message was stored")
	}

	b.routingMustSend(routingMsg{port: b.ports.Submission, source: "127.0.0.2", from: "digital.man@bbs.test",
		to: []string{"digital.man@bbs.test"}, subject: "authenticated local sender", auth: []string{"Digital Man", "Auth-Pass-1"}})
	b.routingMustSend(routingMsg{port: b.ports.SMTP, source: "127.0.0.2", from: "joe@example.org",
		to: []string{"digital.man@bbs.test"}, subject: "foreign sender"})
	for _, subj := range []string{"authenticated local sender", "foreign sender"} {
		if _, ok := routingRowWith(b.routingMailbox("Digital Man"), subj); !ok {
			t.Errorf("%q was not stored", subj)
		}
	}
	if n := strings.Count(b.log.String(), "Executing external mail processor: MailAuth"); n != 2 {
		t.Errorf("mailauth.js ran %d times, want 2 (not for the authenticated user, whom its AccessRequirements exclude)", n)
	}
	if strings.Contains(b.log.String(), "External mail processor failed") {
		t.Errorf("mailauth.js failed:\n%s", b.log.String())
	}
}

// A JavaScript processor whose script is missing or does not compile is
// reported by bbsmail check and when the server starts, naming the script,
// before any message reaches it.
func TestMailprocScriptReported(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.root, "exec", "broken.js"), "function (\n")
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"),
		"[List]\n\tCommand = listserver.js\n\tTo = listserver\n\tPassThru = false\n[Broken]\n\tCommand = broken.js\n")
	b.writeIni()
	wantMissing := "mailproc.ini:2: [List] Command: script listserver.js not found in "
	wantBroken := "mailproc.ini:6: [Broken] Command: script " + filepath.Join(b.root, "exec", "broken.js") + " does not compile"
	out, code := coreRunLimited(t, time.Minute, "check", "-ctrl", b.ctrl)
	if code != 0 || !strings.Contains(out, "warning: mail processors: "+wantMissing) ||
		!strings.Contains(out, "warning: mail processors: "+wantBroken) {
		t.Errorf("check: exit %d, want 0 and warnings naming both scripts:\n%s", code, out)
	}
	b.start()
	log := b.log.String()
	for _, want := range []string{wantMissing, wantBroken} {
		if !strings.Contains(log, want) {
			t.Errorf("the server did not report %q at startup:\n%s", want, log)
		}
	}
}

// JavaScriptTimeLimit and JavaScriptMaxBytes of sbbs.ini [Mail] are the
// limits of the server's scripts: a looping script is stopped after the
// time limit (tenths of a second) and a growing one at the memory limit;
// the message is delivered all the same.
func TestMailprocScriptLimitsFromSbbsIni(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["JavaScriptTimeLimit"] = "50"
	b.mail["JavaScriptMaxBytes"] = "2M"
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"),
		"[Hog]\n\tEval = var a = [], s = 'x'; for (var i = 0; i < 23; i++) { s = s + s; a.push(s); } while (true) {}\n"+
			"[Loop]\n\tEval = while (true) {}\n")
	b.start()
	b.addUser("Digital Man", "Limit-Pass-1")
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"digital.man@bbs.test"}, subject: "limits"})
	log := b.log.String()
	if !strings.Contains(log, "mail processor time limit reached (5s)") {
		t.Errorf("the looping script was not stopped at JavaScriptTimeLimit = 50:\n%s", log)
	}
	if !strings.Contains(log, "mail processor memory limit reached (JavaScriptMaxBytes 2097152") {
		t.Errorf("the growing script was not stopped at JavaScriptMaxBytes = 2M:\n%s", log)
	}
	if _, ok := routingRowWith(b.routingMailbox("Digital Man"), "limits"); !ok {
		t.Error("the message was not delivered")
	}
}

// Synchronet's spamc.js and salib.js, as "[spamc.js reject]" with spamd's
// port, run on mail received over SMTP against a real spamd: a GTUBE
// message is refused at DATA with SpamAssassin's score, a plain one is
// stored with SpamAssassin's X-Spam-Status header.
func TestMailprocStockSpamc(t *testing.T) {
	t.Parallel()
	port := testkit.Spamd(t)
	b := newBBS(t)
	if err := copyTree(filepath.Join(stockSample(t), "exec"), filepath.Join(b.root, "exec")); err != nil {
		t.Fatal(err)
	}
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), fmt.Sprintf("[spamc.js reject]\n\tCommand = spamc.js port %d reject\n", port))
	b.start()
	b.addUser("Digital Man", "Spam-Pass-1")

	out := b.routingSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"digital.man@bbs.test"},
		subject: "gtube", body: testkit.GTUBE})
	if !strings.HasPrefix(out, "DATA-REFUSED 554") || !strings.Contains(out, "SpamAssassin rejected your mail: score:") ||
		!strings.Contains(out, "GTUBE") {
		t.Errorf("GTUBE got %q, want spamc.js's 554 with the score", out)
	}
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"digital.man@bbs.test"},
		subject: "plain", body: "Lunch on Friday? The usual place."})
	row, ok := routingRowWith(b.routingMailbox("Digital Man"), "plain")
	if !ok {
		t.Fatal("the plain message was not stored")
	}
	if text := b.must("mail", "read", "Digital Man", routingFields(row)[0]); !strings.Contains(text, "X-Spam-Status: No") {
		t.Errorf("the stored plain message lacks SpamAssassin's verdict:\n%s", text)
	}
	if _, ok := routingRowWith(b.routingMailbox("Digital Man"), "gtube"); ok {
		t.Error("the GTUBE message was stored")
	}
}

// Synchronet's stock mailproc.ini (MailAuth and ListServer, the list's
// address added to ListServer's To as the sysop does) with the stock
// listserver.js runs on mail received over SMTP (smtplib): "subscribe"
// adds the sender and SendMail delivers the answer; a subscriber's post is
// put on the list's sub-board and SendMail delivers it to the subscribers
// (a loopback SMTP server, found through a loopback DNS server's MX
// record) with the list's headers; a stranger's post is refused.
func TestMailprocStockListserver(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	dns := startOutboundDNS(t, outboundMXRecords("example.org"))
	b := outboundBBS(t, dns, peer.port)
	stockProcessors(t, b, "MailAuth", "ListServer")
	ini, err := os.ReadFile(filepath.Join(b.ctrl, "mailproc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), strings.Replace(string(ini), "To=listserver, listserv", "To=listserver, listserv, sync", 1))
	coreWrite(t, filepath.Join(b.ctrl, "listserver.ini"), "[sync]\n\tsub = LOCAL-GENERAL\n\tdescription = Sync talk\n")
	b.start()

	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"listserver@bbs.test"},
		subject: "commands", body: "subscribe sync"})
	listDelivered(t, peer, "the answer to subscribe", func(m outboundMsg) bool {
		return strings.Contains(string(m.data), "joe@example.org subscription successful")
	})
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sync@bbs.test"},
		subject: "hello list", body: "First post."})
	listDelivered(t, peer, "the post to the subscriber", func(m outboundMsg) bool {
		d := string(m.data)
		return m.from == "listserver@bbs.test" && len(m.rcpts) == 1 && m.rcpts[0] == "joe@example.org" &&
			strings.Contains(d, "Subject: hello list") && strings.Contains(d, "First post.") &&
			strings.Contains(d, "List-ID: Sync talk <sync.bbs.test>") && strings.Contains(d, "Reply-To: sync@bbs.test")
	})
	out := b.routingSend(routingMsg{port: b.ports.SMTP, from: "stranger@example.net", to: []string{"sync@bbs.test"},
		subject: "let me post", body: "Spam."})
	if !strings.HasPrefix(out, "DATA-REFUSED 554") || !strings.Contains(out, "stranger@example.net is not a subscriber") {
		t.Errorf("a stranger's post got %q, want listserver.js's refusal", out)
	}
	if strings.Contains(b.log.String(), "External mail processor failed") {
		t.Errorf("a stock processor failed:\n%s", b.log.String())
	}
}

// listDelivered waits until the loopback peer received a message that
// satisfies cond.
func listDelivered(t *testing.T, peer *outboundPeer, what string, cond func(outboundMsg) bool) {
	t.Helper()
	ok := routingPoll(60*time.Second, func() bool {
		for _, m := range peer.messages() {
			if cond(m) {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("%s was not delivered; the peer got %d messages", what, len(peer.messages()))
	}
}

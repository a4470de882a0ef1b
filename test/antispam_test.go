package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// antispamClient runs one real client (Python's smtplib) from the local
// address src and returns what it printed.
func antispamClient(t *testing.T, action string, port int, src string, args ...string) string {
	t.Helper()
	all := append([]string{action, coreHost, itoa(port), src}, args...)
	return strings.TrimSpace(python(t, "antispam_clients.py", all...))
}

// Spam bait over real SMTP: a stranger (127.0.0.2; ipfilter_exempt.cfg
// emptied, since the stock one exempts 127.0.0.0/8) that writes to a
// spambait.cfg address is answered 250, nothing is stored, and its next
// connection is refused with 550 because spamblock.cfg now lists it. The
// body went into the spam hash database: another client sending it again,
// re-wrapped, gets 250 and nothing is stored, while a different body from
// that client is delivered.
func TestAntispamBaitBlocksAndHashes(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt here\n")
	coreWrite(t, filepath.Join(b.ctrl, "spambait.cfg"), "; addresses only spammers know\nold-webmaster@bbs.test\n")
	b.mail["SpamBlockDuration"] = "30d"
	b.start()
	b.addUser("Digital Man", "Antispam-Pass-1")

	const spammer, other = "127.0.0.2", "127.0.0.3"
	rcpts := "digital.man@bbs.test,old-webmaster@bbs.test"
	if out := antispamClient(t, "send", b.ports.SMTP, spammer, "offers@spam.example", rcpts,
		"Special offer", `Cheap pills, best prices.\nClick now.`); out != "SENT 250" {
		t.Fatalf("message to a bait address: %q, want SENT 250", out)
	}
	if out := antispamClient(t, "greet", b.ports.SMTP, spammer); out != "550 5.7.1 CLIENT IP ADDRESS BLOCKED: 127.0.0.2" {
		t.Fatalf("the bait taker's next connection: %q, want 550 CLIENT IP ADDRESS BLOCKED", out)
	}
	block, err := os.ReadFile(filepath.Join(b.ctrl, "spamblock.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`(?m)^127\.0\.0\.2\tt=\d{8}T\d{6}[-+]\d{4}\tp=SMTP\tr=SPAM BAIT \(old-webmaster@bbs\.test\) taken` +
		`\te=\d{8}T\d{6}[-+]\d{4}\tu=offers@spam\.example$`)
	if !entry.Match(block) || !strings.HasPrefix(string(block), "; This file is used by the Synchronet Mail Server") {
		t.Errorf("spamblock.cfg lacks the entry, or lost its comments:\n%s", block)
	}

	if out := antispamClient(t, "send", b.ports.SMTP, other, "news@elsewhere.example", "digital.man@bbs.test",
		"Re: your order", `Cheap pills,\n  best prices. Click now.`); out != "SENT 250" {
		t.Fatalf("known spam from another client: %q, want SENT 250", out)
	}
	if out := antispamClient(t, "send", b.ports.SMTP, other, "news@elsewhere.example", "digital.man@bbs.test",
		"Club meeting", `See you on Friday.`); out != "SENT 250" {
		t.Fatalf("clean message: %q, want SENT 250", out)
	}
	coreWaitLog(b, "found in SPAM database")
	out := b.must("mail", "list", "digital man")
	if !strings.Contains(out, "Club meeting") || strings.Contains(out, "Special offer") || strings.Contains(out, "your order") {
		t.Fatalf("the mailbox holds spam or lacks the clean message:\n%s", out)
	}
	spamlog, err := os.ReadFile(filepath.Join(b.root, "data", "spam.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SUSPECTED SMTP SPAM IGNORED and BLOCKED on ",
		"Reason: SPAM BAIT (old-webmaster@bbs.test) taken\r\n",
		"SUSPECTED SMTP SPAM SESSION REFUSED on ",
		"Host: <no name> [127.0.0.3]\r\nFrom: news@elsewhere.example to: <digital.man@bbs.test>\r\nReason: body (",
	} {
		if !strings.Contains(string(spamlog), want) {
			t.Errorf("spam.log lacks %q:\n%s", want, spamlog)
		}
	}
}

package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The server is not an open relay: a stranger on port 25 asking to reach
// another domain gets 550 and is disconnected, nothing is queued, and the
// attempt is in data/spam.log and in the server log with the wording
// fail2ban filters look for.
func TestCoreNoOpenRelay(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO spammer.example")
	c.expect("250 ")
	c.send("MAIL FROM:<spammer@example.net>")
	c.expect("250 ")
	c.send("RCPT TO:<victim@example.com>")
	c.expect("550 5.7.1 ")
	if !c.closed() {
		t.Fatal("the connection stays open after a relay attempt")
	}
	if q := coreQueueList(b); !strings.Contains(q, "0 entries") {
		t.Fatalf("something was queued after a refused relay attempt:\n%s", q)
	}
	spam, err := os.ReadFile(filepath.Join(b.root, "data", "spam.log"))
	if err != nil {
		t.Fatalf("no spam.log after a relay attempt: %v", err)
	}
	// Synchronet's spam.log entry: CR LF lines, a blank line after it.
	entry := regexp.MustCompile(`^SUSPECTED SMTP SPAM REFUSED on [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d\r\n` +
		`Host: \S.* \[127\.0\.0\.1\]\r\n` +
		`From: spammer@example\.net to: victim@example\.com\r\n` +
		`Reason: Relay attempt to: victim@example\.com\r\n\r\n$`)
	if !entry.Match(spam) {
		t.Errorf("spam.log is not one Synchronet-style entry for the attempt:\n%q", spam)
	}
	coreWaitLog(b, "ILLEGAL RELAY ATTEMPT")
}

// A host listed in ctrl/relay.cfg may relay without logging in: its mail
// for another domain is accepted and waits in the outbound queue.
func TestCoreRelayCfgHost(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "relay.cfg"), "; our web server\n127.0.0.1\n")
	b.start()
	coreDeliver(t, b, "www@bbs.test", "customer@example.com", "order confirmation")
	q := coreQueueList(b)
	if !strings.Contains(q, "customer@example.com") || !strings.Contains(q, "1 entries") {
		t.Fatalf("the relayed message is not queued:\n%s", q)
	}
	if b.logContains("ILLEGAL RELAY ATTEMPT") {
		t.Fatal("a relay.cfg host was logged as an illegal relay attempt")
	}
}

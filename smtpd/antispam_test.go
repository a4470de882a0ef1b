package smtpd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// fakeSpamDB is a spam hash database that compares bodies without their
// white space (the real normalisation is store's, tested there).
type fakeSpamDB struct {
	mu    sync.Mutex
	known map[string]time.Time
	added []string // bodies recorded, in order
}

var _ smtpd.SpamHashes = (*fakeSpamDB)(nil)

func newSpamDB(known ...string) *fakeSpamDB {
	f := &fakeSpamDB{known: map[string]time.Time{}}
	for _, k := range known {
		f.known[squeeze(k)] = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	}
	return f
}

func squeeze(b string) string { return strings.Join(strings.Fields(b), "") }

func (f *fakeSpamDB) AddSpam(_ context.Context, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, string(body))
	if _, ok := f.known[squeeze(string(body))]; !ok {
		f.known[squeeze(string(body))] = time.Now()
	}
	return nil
}

func (f *fakeSpamDB) KnownSpam(_ context.Context, body []byte) (bool, string, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	added, ok := f.known[squeeze(string(body))]
	return ok, "0badc0de", added, nil
}

func (f *fakeSpamDB) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.added...)
}

func withSpamDB(db *fakeSpamDB) func(*smtpd.Deps) {
	return func(d *smtpd.Deps) { d.SpamHash = db }
}

// stranger makes 127.0.0.1 an ordinary client: not the server's own host,
// so spam bait blocks it and spamblock.cfg refuses it.
func stranger(c *smtpd.Config) { c.Loopback = func(net.IP) bool { return false } }

// baitConfig sets up spambait.cfg (bait@bbs.example, trap@bbs.example) and
// a spamblock.cfg in a temporary directory; it returns the latter's path.
func baitConfig(t *testing.T, c *smtpd.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spamblock.cfg")
	c.SpamBait = pattern.MustParse("; spam bait\nbait@bbs.example\ntrap@bbs.example\n")
	c.SpamBlockPath = path
	c.SpamBlock = pattern.NewFile(path)
	return path
}

// sendMail runs one transaction and returns the reply to the final dot.
// A RCPT that is not answered with 250 stops it and returns that reply.
func sendMail(c *client, from string, rcpts []string, text string) string {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", "250 ")
	for _, r := range rcpts {
		c.send("RCPT TO:<" + r + ">\r\n")
		if line := c.expect(""); !strings.HasPrefix(line, "250 ") {
			return line
		}
	}
	c.cmd("DATA", "354 ")
	c.send(text + "\r\n.\r\n")
	return c.expect("")
}

const spamText = "From: Spammer <spammer@example.com>\r\nSubject: offer\r\n\r\nBuy cheap pills now"

// A client that writes to a spam bait address gets 250 like any other,
// but nothing is stored when the last recipient was bait, the body goes
// into the spam hash database, spam.log says "IGNORED and BLOCKED", and
// spamblock.cfg gains the client with Synchronet's metadata, so its next
// connection is refused.
func TestSpamBaitBlocksClient(t *testing.T) {
	t.Parallel()
	var block string
	db := newSpamDB()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		stranger(c)
		block = baitConfig(t, c)
		c.SpamBlockDuration = 24 * time.Hour
	}, withSpamDB(db))
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	if r := sendMail(c, "spammer@example.com", []string{"sysop@bbs.example", "forward:Bait@BBS.example"}, spamText); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("message to bait: %q, want 250", r)
	}
	if n := ts.drop.count(); n != 0 {
		t.Fatalf("%d deliveries of a message whose last recipient was bait", n)
	}
	if got := db.recorded(); len(got) != 1 || got[0] != "Buy cheap pills now\r\n" {
		t.Errorf("spam database got %q, want the body", got)
	}
	entry := regexp.MustCompile(`^127\.0\.0\.1\tt=\d{8}T\d{6}[-+]\d{4}\tp=SMTP\tr=SPAM BAIT \(Bait@BBS\.example\) taken` +
		`\te=\d{8}T\d{6}[-+]\d{4}\tu=spammer@example\.com\th=client\.example\n$`)
	if got := readFile(t, block); !entry.MatchString(got) {
		t.Errorf("spamblock.cfg:\n%q\ndoes not match %s", got, entry)
	}
	spamlog := regexp.MustCompile(`SUSPECTED SMTP SPAM IGNORED and BLOCKED on [^\r\n]+\r\nHost: client\.example \[127\.0\.0\.1\]\r\n` +
		`From: spammer@example\.com to: Bait@BBS\.example\r\nReason: SPAM BAIT \(Bait@BBS\.example\) taken\r\n\r\n`)
	if got := readFile(t, ts.spamLog); !spamlog.MatchString(got) {
		t.Errorf("spam.log:\n%s", got)
	}
	c.cmd("QUIT", "221 ")

	c = ts.dial(t)
	c.expect("550 5.7.1 CLIENT IP ADDRESS BLOCKED: 127.0.0.1")
	c.expectClosed()
}

// Each RCPT sets the bait flag anew, so the last recipient decides:
// bait before a real recipient delivers to that recipient (the body is
// still recorded as spam). An authenticated user writing to bait only
// loses that recipient: nothing is dropped, hashed or blocked. A
// DNS-listed client is not added to spamblock.cfg (the list already
// speaks for it) and bait clears its listing; spamblock_exempt.cfg
// prevents the entry; the server's own host is never blocked.
func TestSpamBaitRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		edit      func(*smtpd.Config)
		auth      bool
		rcpts     []string
		delivered int    // messages stored
		stored    string // the recipients of the stored message
		hashed    int
		blocked   bool
		action    string // spam.log action of the bait RCPT
	}{
		{name: "bait first, user last", edit: stranger, rcpts: []string{"trap@bbs.example", "sysop@bbs.example"},
			delivered: 1, stored: "rcpt kind=mailbox user=1 fp=<sysop@bbs.example>", hashed: 1, blocked: true, action: "IGNORED and BLOCKED"},
		{name: "bait only", edit: stranger, rcpts: []string{"trap@bbs.example"},
			hashed: 1, blocked: true, action: "IGNORED and BLOCKED"},
		{name: "authenticated user", edit: stranger, auth: true, rcpts: []string{"sysop@bbs.example", "bait@bbs.example"},
			delivered: 1, stored: "rcpt kind=mailbox user=1", action: "IGNORED"},
		{name: "DNS-listed client", edit: func(c *smtpd.Config) { stranger(c); c.DNSBL = fakeDNSBL{listed: true} },
			rcpts: []string{"bait@bbs.example", "sysop@bbs.example"}, delivered: 1, stored: "spam=false", hashed: 1, action: "IGNORED"},
		{name: "spamblock_exempt.cfg", edit: func(c *smtpd.Config) { stranger(c); c.SpamBlockExempt = pattern.MustParse("client.example") },
			rcpts: []string{"bait@bbs.example"}, hashed: 1, action: "IGNORED"},
		{name: "the server's own host", edit: nil, rcpts: []string{"bait@bbs.example"}, hashed: 1, action: "IGNORED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var block string
			db := newSpamDB()
			ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
				if tc.edit != nil {
					tc.edit(c)
				}
				block = baitConfig(t, c)
			}, withSpamDB(db))
			c := ts.dial(t)
			c.expect("220 ")
			c.cmd("EHLO client.example", "250 ")
			from := "joe@example.com"
			if tc.auth {
				c.cmd("STARTTLS", "220 ")
				c.startTLS(ts.clientTLS)
				c.cmd("EHLO client.example", "250 ")
				c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00Secret1")), "235 ")
				from = "sysop@bbs.example"
			}
			if r := sendMail(c, from, tc.rcpts, spamText); !strings.HasPrefix(r, "250 ") {
				t.Fatalf("final reply %q, want 250", r)
			}
			if n := ts.drop.count(); n != tc.delivered {
				t.Fatalf("%d messages stored, want %d", n, tc.delivered)
			}
			if tc.delivered > 0 {
				env, _ := ts.drop.last()
				if got := envString(env); !strings.Contains(got, tc.stored) || strings.Contains(got, "kind=drop") {
					t.Errorf("stored envelope:\n%s\nwant %q and no bait recipient", got, tc.stored)
				}
			}
			if n := len(db.recorded()); n != tc.hashed {
				t.Errorf("%d bodies recorded as spam, want %d", n, tc.hashed)
			}
			if got := readFile(t, block) != ""; got != tc.blocked {
				t.Errorf("spamblock.cfg written = %v, want %v:\n%s", got, tc.blocked, readFile(t, block))
			}
			if want := "SUSPECTED SMTP SPAM " + tc.action + " on "; !strings.Contains(readFile(t, ts.spamLog), want) {
				t.Errorf("spam.log lacks %q:\n%s", want, readFile(t, ts.spamLog))
			}
		})
	}
}

// A body already in the spam hash database is accepted with 250 and
// dropped, whoever sends it (unless authenticated), however it is
// wrapped; spam.log names the hash and when it was first recorded. A
// different body is delivered.
func TestSpamHashHitDropsMessage(t *testing.T) {
	t.Parallel()
	db := newSpamDB("Buy cheap pills now")
	ts := startServer(t, smtpd.MTA, nil, withSpamDB(db))
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	rewrapped := "From: Other <other@example.net>\r\nSubject: hello\r\n\r\nBuy cheap\r\npills  now\r\n"
	if r := sendMail(c, "other@example.net", []string{"sysop@bbs.example"}, rewrapped); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("known spam: %q, want 250", r)
	}
	if n := ts.drop.count(); n != 0 {
		t.Fatalf("known spam stored (%d deliveries)", n)
	}
	want := regexp.MustCompile(`SUSPECTED SMTP SPAM IGNORED on [^\r\n]+\r\nHost: client\.example \[127\.0\.0\.1\]\r\n` +
		`From: other@example\.net to: <sysop@bbs\.example>\r\nReason: body \(0badc0de\) found in SPAM database \(added on Sun Nov 01 2026 12:00:00\)\r\n`)
	if got := readFile(t, ts.spamLog); !want.MatchString(got) {
		t.Errorf("spam.log:\n%s", got)
	}
	if r := sendMail(c, "other@example.net", []string{"sysop@bbs.example"}, "From: other@example.net\r\n\r\nLunch on Friday?\r\n"); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("clean message: %q", r)
	}
	if n := ts.drop.count(); n != 1 {
		t.Fatalf("clean message not stored (%d deliveries)", n)
	}
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00Secret1")), "235 ")
	if r := sendMail(c, "sysop@bbs.example", []string{"guest@bbs.example"}, rewrapped); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("authenticated: %q", r)
	}
	if n := ts.drop.count(); n != 2 {
		t.Fatalf("an authenticated user's message was dropped as spam (%d deliveries)", n)
	}
}

// DNSBL_SPAMHASH: a listed client's message is still delivered, tagged,
// and its body is recorded, so the same body from an unlisted server is
// dropped later. With DNSBL_IGNORE too, the message is dropped and its
// body still recorded.
func TestDNSBLSpamHash(t *testing.T) {
	t.Parallel()
	t.Run("ignore", func(t *testing.T) {
		t.Parallel()
		db := newSpamDB()
		ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
			stranger(c)
			c.DNSBL = fakeDNSBL{listed: true}
			c.DNSBLSpamHash, c.DNSBLIgnore = true, true
		}, withSpamDB(db))
		c := ts.dial(t)
		c.expect("220 ")
		c.cmd("EHLO client.example", "250 ")
		if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, spamText); !strings.HasPrefix(r, "250 ") {
			t.Fatalf("listed client: %q", r)
		}
		if n := ts.drop.count(); n != 0 || len(db.recorded()) != 1 {
			t.Errorf("%d stored, %d bodies recorded; want 0 and 1", n, len(db.recorded()))
		}
	})
	db := newSpamDB()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		stranger(c)
		c.DNSBL = fakeDNSBL{listed: true}
		c.DNSBLSpamHash = true
	}, withSpamDB(db))
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, spamText); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("listed client: %q", r)
	}
	env, msg := ts.drop.last()
	if env == nil || !env.Spam || !bytes.HasPrefix(msg, []byte("X-DNSBL: 127.0.0.1 is listed on bl.test")) {
		t.Fatalf("not delivered tagged: %v\n%s", env, msg)
	}
	if got := db.recorded(); len(got) != 1 || got[0] != "Buy cheap pills now\r\n" {
		t.Errorf("spam database got %q, want the body", got)
	}
}

// fakeListDNSBL lists the given addresses and records every query.
type fakeListDNSBL struct {
	mu     sync.Mutex
	listed map[string]bool
	asked  []string
}

func (f *fakeListDNSBL) Check(_ context.Context, ip string) (bool, string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, ip)
	return f.listed[ip], "bl.test Test DNSBL", "127.0.0.4", nil
}

func (f *fakeListDNSBL) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// DNSBL_CHKRECVHDRS: a message relayed by a clean client is tagged when a
// Received field names a listed server; private and loopback addresses
// are never looked up, the by-clause's address is not the sender's, and
// a message with many Received fields costs at most ten lookups. With
// DNSBL_IGNORE such a message is dropped.
func TestCheckReceivedHeaders(t *testing.T) {
	t.Parallel()
	bl := &fakeListDNSBL{listed: map[string]bool{"192.0.2.7": true}}
	ignore := false
	start := func(t *testing.T) *testServer {
		// The client is the server's own host: it is not looked up itself,
		// but the servers its mail passed through are.
		return startServer(t, smtpd.MTA, func(c *smtpd.Config) {
			c.DNSBL = bl
			c.DNSBLCheckReceived = true
			c.DNSBLIgnore = ignore
			c.DNSBLSubject = "SPAM"
		})
	}
	ts := start(t)
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO relay.example", "250 ")
	text := "Received: from inside (inside [10.1.2.3]) by relay.example [198.51.100.9]; Sun, 22 Nov 2026 10:00:00 +0000\r\n" +
		"Received: from mx.spam.example (mx.spam.example\r\n [IPv6:::ffff:192.0.2.7]) by gw [127.0.0.1]; Sun, 22 Nov 2026 09:59:00 +0000\r\n" +
		"From: joe@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, text); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("%q", r)
	}
	env, msg := ts.drop.last()
	if env == nil || !env.Spam || !bytes.HasPrefix(msg, []byte("X-DNSBL: 192.0.2.7 is listed on bl.test Test DNSBL as 127.0.0.4\r\n")) ||
		!bytes.Contains(msg, []byte("Subject: SPAM: hi")) {
		t.Fatalf("not tagged by the Received header:\n%s", msg)
	}
	if got := strings.Join(bl.queries(), ","); got != "192.0.2.7" {
		t.Errorf("DNSBL asked about %q, want only 192.0.2.7 (not 127.0.0.1, 10.1.2.3 or the by-clause's 198.51.100.9)", got)
	}
	if !strings.Contains(readFile(t, ts.spamLog), "Reason: Listed on bl.test Test DNSBL as 127.0.0.4 (192.0.2.7, named in a Received header)") {
		t.Errorf("spam.log:\n%s", readFile(t, ts.spamLog))
	}

	// The listing applied to that message only; and many fields cost ten
	// lookups.
	var many strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&many, "Received: from h%d ([203.0.113.%d]) by x; Sun, 22 Nov 2026 09:00:00 +0000\r\n", i, i)
	}
	many.WriteString("From: joe@example.com\r\n\r\nclean\r\n")
	if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, many.String()); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("%q", r)
	}
	env, _ = ts.drop.last()
	if env.Spam {
		t.Error("the listing of the first message carried over to the next")
	}
	if n := len(bl.queries()); n != 1+10 {
		t.Errorf("%d lookups in all, want 1 + 10", n)
	}

	ignore = true
	ts = start(t)
	c = ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO relay.example", "250 ")
	if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, text); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("%q", r)
	}
	if n := ts.drop.count(); n != 0 {
		t.Errorf("DNSBL_IGNORE: a message through a listed server was stored")
	}
}

// pauseCounter is a Config.Pause that counts and returns at once.
type pauseCounter struct {
	mu sync.Mutex
	n  int
	d  time.Duration
}

func (p *pauseCounter) pause(_ context.Context, d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.d = d
	return nil
}

func (p *pauseCounter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// DNSBL_THROTTLE: a listed client waits a second before every line it
// sends, message lines included; an unlisted client never waits, and a
// listed one stops waiting once it has authenticated.
func TestDNSBLThrottle(t *testing.T) {
	t.Parallel()
	// session runs one session and returns the pauses counted once the
	// server has read QUIT, its last line.
	session := func(t *testing.T, listed, login bool) *pauseCounter {
		p := &pauseCounter{}
		ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
			stranger(c)
			c.DNSBL = fakeDNSBL{listed: listed}
			c.DNSBLThrottle = true
			c.Pause = p.pause
		})
		c := ts.dial(t)
		c.expect("220 ")
		c.cmd("EHLO client.example", "250 ")
		if login {
			c.cmd("STARTTLS", "220 ")
			c.startTLS(ts.clientTLS)
			c.cmd("EHLO client.example", "250 ")
			c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00Secret1")), "235 ")
		}
		if r := sendMail(c, "joe@example.com", []string{"sysop@bbs.example"}, "From: joe@example.com\r\n\r\none\r\ntwo"); !strings.HasPrefix(r, "250 ") {
			t.Fatalf("%q", r)
		}
		c.cmd("QUIT", "221 ")
		if p.count() > 0 && p.d != smtpd.DefaultThrottleDelay {
			t.Errorf("paused %s per line, want %s", p.d, smtpd.DefaultThrottleDelay)
		}
		return p
	}
	// EHLO, MAIL, RCPT, DATA, four lines of text (From, blank, one, two),
	// the dot and QUIT.
	if n := session(t, true, false).count(); n != 10 {
		t.Errorf("listed client: %d pauses for 10 lines", n)
	}
	if n := session(t, false, false).count(); n != 0 {
		t.Errorf("unlisted client paused %d times", n)
	}
	// EHLO, STARTTLS, EHLO and AUTH wait; nothing after AUTH does.
	if n := session(t, true, true).count(); n != 4 {
		t.Errorf("listed client that authenticated: %d pauses, want 4 (before AUTH only)", n)
	}
}

// Shutdown ends a throttle pause at once: the client gets 421.
func TestDNSBLThrottleEndsAtShutdown(t *testing.T) {
	t.Parallel()
	waiting := make(chan struct{}, 1)
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		stranger(c)
		c.DNSBL = fakeDNSBL{listed: true}
		c.DNSBLThrottle = true
		c.MaxInactivity = time.Hour
		c.Pause = func(ctx context.Context, _ time.Duration) error {
			select {
			case waiting <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		}
	})
	c := ts.dial(t)
	c.expect("220 ")
	<-waiting
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.expect("421 4.3.2 Service shutting down")
}

// smtpspy.can: a session whose client, sender or recipient is listed has
// its dialogue written to smtpspy.txt, both directions, from the moment
// it matched, with AUTH data never written. Other sessions are not
// logged.
func TestSMTPSpy(t *testing.T) {
	t.Parallel()
	spyLog := filepath.Join(t.TempDir(), "smtpspy.txt")
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		c.SpyList = pattern.MustParse("watched@example.org\n")
		c.SpyLogPath = spyLog
	})
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<joe@example.org>", "250 ")
	c.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	c.cmd("QUIT", "221 ")
	if got := readFile(t, spyLog); got != "" {
		t.Fatalf("an unlisted session was logged:\n%s", got)
	}

	c = ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<watched@example.org>", "250 ")
	c.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	c.cmd("RSET", "250 ")
	// Terminal controls a client sends are written as escapes.
	c.cmd("NOOP \x1b[2J\u009b31m\x9b1m", "250 ")
	plain := base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00Secret1"))
	// A control character in the verb makes the command unrecognized; the
	// spy log must hide the credentials all the same.
	c.cmd("AUTH\x01 PLAIN "+plain, "500 ")
	// Nor a leading space, or a tab for the space.
	c.cmd(" AUTH PLAIN "+plain, "500 ")
	c.cmd("AUTH\tPLAIN "+plain, "500 ")
	c.cmd("AUTH PLAIN "+plain, "235 ")
	c.cmd("QUIT", "221 ")
	c.expectClosed()
	testkit.WaitFor(t, 10*time.Second, "the spy log to be closed", func() bool { return strings.Contains(readFile(t, spyLog), "session ended") })
	got := readFile(t, spyLog)
	for _, want := range []string{
		"* session from client.example [127.0.0.1] port ",
		"smtpspy.can matched sender <watched@example.org>",
		"C: MAIL FROM:<watched@example.org>",
		"S: 250 2.1.0 OK",
		"C: RCPT TO:<sysop@bbs.example>",
		`C: NOOP \x1b[2J\u009b31m\x9b1m`,
		"C: AUTH PLAIN (initial response hidden)",
		"S: 235 2.7.0 Authentication successful",
		"S: 221 2.0.0 bbs.example Service closing transmission channel",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("spy log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, plain) || strings.Contains(got, "Secret1") || strings.Contains(got, "EHLO") {
		t.Errorf("spy log holds AUTH data or lines from before the match:\n%s", got)
	}
	if l := ts.log.String(); strings.Contains(l, plain) {
		t.Errorf("the DEBUG_RX_RSP log holds AUTH data:\n%s", l)
	}
}

// A client listed by address is logged from its greeting on; the answers
// to AUTH LOGIN's prompts are hidden.
func TestSMTPSpyClientAndAuthLogin(t *testing.T) {
	t.Parallel()
	spyLog := filepath.Join(t.TempDir(), "smtpspy.txt")
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		c.SpyList = pattern.MustParse("127.0.0.0/8\n")
		c.SpyLogPath = spyLog
	})
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	user := base64.StdEncoding.EncodeToString([]byte("sysop"))
	pass := base64.StdEncoding.EncodeToString([]byte("Secret1"))
	c.cmd("AUTH LOGIN", "334 ")
	c.cmd(user, "334 ")
	c.cmd(pass, "235 ")
	c.cmd("QUIT", "221 ")
	c.expectClosed()
	testkit.WaitFor(t, 10*time.Second, "the spy log to be closed", func() bool { return strings.Contains(readFile(t, spyLog), "session ended") })
	got := readFile(t, spyLog)
	for _, want := range []string{"smtpspy.can matched client 127.0.0.1", "S: 220 bbs.example", "C: EHLO client.example",
		"C: AUTH LOGIN", "C: (AUTH data hidden)", "S: 235 "} {
		if !strings.Contains(got, want) {
			t.Errorf("spy log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, user) || strings.Contains(got, pass) {
		t.Errorf("spy log holds AUTH data:\n%s", got)
	}
	if fi, err := os.Stat(spyLog); err != nil || fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("spy log mode %v, %v: others must not read it", fi.Mode(), err)
	}
}

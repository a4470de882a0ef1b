package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A mailbase that cannot grow (here: the server runs under a file size
// limit, RLIMIT_FSIZE, with SIGXFSZ as a shell leaves it) is "insufficient
// system storage": DATA is answered 452 4.3.1 over a real socket, nothing
// of the refused message is stored, the session and the server go on
// (a message that fits in the file's free pages is still taken), POP3
// reads and deletes, the file checks clean after the stop, and once the
// limit is gone new mail is accepted again.
func TestDiskFullSystem(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.addUser("Reader", "Full-Pass-1")
	b.start() // the first start creates the buckets
	b.stop()
	dbFile := filepath.Join(b.root, "data", "bbsmail.db")
	size := fileSize(t, dbFile)
	// bbolt grows the file by doubling it (up to 16 MiB, then 16 MiB at a
	// time): this limit lets it double twice and refuses the third.
	b.fsize = size*4 + size/2
	b.start()

	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	big := strings.Repeat(strings.Repeat("0123456789", 7)+"\r\n", 240) // 17 kB
	accepted := 0
	refused := ""
	for i := 0; i < 100 && refused == ""; i++ {
		if r := fullSend(c, "big "+itoa(i), big); strings.HasPrefix(r, "250 ") {
			accepted++
		} else {
			refused = r
		}
	}
	if !strings.HasPrefix(refused, "452 4.3.1 ") || accepted == 0 {
		t.Fatalf("after %d messages of 17 kB: %q; want some accepted, then 452 4.3.1", accepted, refused)
	}
	if got := fileSize(t, dbFile); got > b.fsize {
		t.Fatalf("the mailbase is %d bytes, over the limit of %d", got, b.fsize)
	}
	// The session goes on, and small messages fill the free pages until
	// they too find no room.
	c.send("NOOP")
	c.expect("250 ")
	refused = ""
	for i := 0; i < 2000 && refused == ""; i++ {
		if r := fullSend(c, "small "+itoa(i), "hi\r\n"); strings.HasPrefix(r, "250 ") {
			accepted++
		} else {
			refused = r
		}
	}
	if !strings.HasPrefix(refused, "452 4.3.1 ") {
		t.Fatalf("small messages: %q, want 452 4.3.1 once the free pages are used", refused)
	}
	c.send("QUIT")
	c.expect("221 ")
	if b.exited() {
		t.Fatal("the server exited")
	}
	if !b.logContains("file too large") {
		t.Error("the log does not say why the message was refused")
	}

	// POP3 on the full mailbase: exactly the acknowledged messages, they
	// can be read, and deleting works: deliveries left free pages for it.
	p := fullPOP3(t, b)
	p.send("STAT")
	p.expect("+OK " + itoa(accepted) + " ")
	p.send("RETR 1")
	p.expect("+OK ")
	for line := p.reply(); line != "."; line = p.reply() {
	}
	p.send("DELE 1")
	p.expect("+OK ")
	p.send("QUIT")
	p.expect("+OK ")
	accepted--
	p = fullPOP3(t, b)
	p.send("STAT")
	p.expect("+OK " + itoa(accepted) + " ")
	p.send("QUIT")
	p.expect("+OK ")

	// A message larger than all the free pages needs the file to grow.
	huge := strings.Repeat(big, 24) // 400 kB
	if prlimit, err := exec.LookPath("prlimit"); err != nil {
		t.Log("prlimit (util-linux) not installed: not raising the limit of the running server")
	} else {
		// Raised while the server runs: within a probe interval the
		// server notices and takes mail that grows the file.
		if out, err := exec.Command(prlimit, "--pid", itoa(b.cmd.Process.Pid), "--fsize=unlimited:").CombinedOutput(); err != nil {
			t.Fatalf("prlimit: %v\n%s", err, out)
		}
		c = coreSMTPReady(t, b)
		c.send("EHLO client.example")
		c.expect("250 ")
		waitFor(t, time.Minute, "a message that grows the file after the limit was raised", func() bool {
			r := fullSend(c, "after the raise", huge)
			if !strings.HasPrefix(r, "250 ") && !strings.HasPrefix(r, "452 4.3.1 ") {
				t.Fatalf("while waiting for room: %q", r)
			}
			return strings.HasPrefix(r, "250 ")
		})
		accepted++
		c.send("QUIT")
		c.expect("221 ")
	}

	b.stop()
	if out, errOut, code := b.run("", "check", "--db"); code != 0 || !strings.Contains(out, "mailbase OK: 1 users, "+itoa(accepted)+" messages") {
		t.Fatalf("check --db after the stop: exit %d\n%s%s", code, out, errOut)
	}

	// Restarted without the limit, the server takes mail that grows the
	// file at once.
	b.fsize = 0
	before := fileSize(t, dbFile)
	b.start()
	coreDeliverText(t, b, "joe@example.org", "reader@bbs.test", "From: <joe@example.org>\r\nSubject: room again\r\n\r\n"+huge)
	p = fullPOP3(t, b)
	p.send("STAT")
	p.expect("+OK " + itoa(accepted+1) + " ")
	p.send("DELE 1")
	p.expect("+OK ")
	p.send("QUIT")
	p.expect("+OK ")
	if got := fileSize(t, dbFile); got <= before {
		t.Errorf("the mailbase is %d bytes after a restart without the limit and a 400 kB message; want it grown past %d", got, before)
	}
}

// fullSend sends one message in an open session and returns the reply to
// its text.
func fullSend(c *conn, subject, body string) string {
	c.send("MAIL FROM:<joe@example.org>")
	c.expect("250 ")
	c.send("RCPT TO:<reader@bbs.test>")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	c.send("From: <joe@example.org>\r\nTo: <reader@bbs.test>\r\nSubject: " + subject + "\r\n\r\n" + body + ".")
	return c.reply()
}

// fullPOP3 logs Reader in to POP3.
func fullPOP3(t *testing.T, b *bbs) *conn {
	t.Helper()
	p := dial(t, b.addr(b.ports.POP3))
	p.expect("+OK ")
	p.send("USER Reader")
	p.expect("+OK ")
	p.send("PASS Full-Pass-1")
	p.expect("+OK ")
	return p
}

func fileSize(t *testing.T, name string) int64 {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

package test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// settingsPOP3RetrQuit logs alias in over POP3, retrieves message 1 and
// quits.
func settingsPOP3RetrQuit(t *testing.T, b *bbs, alias, password string) {
	t.Helper()
	c := dial(t, b.addr(b.ports.POP3))
	c.expect("+OK ")
	c.send("USER " + alias)
	c.expect("+OK ")
	c.send("PASS " + password)
	c.expect("+OK ")
	c.send("RETR 1")
	c.expect("+OK ")
	for {
		if l := c.reply(); l == "." {
			break
		}
	}
	c.send("QUIT")
	c.expect("+OK ")
}

// main.ini "Kill Read E-mail": mail arrives flagged kill-read and is gone
// once a POP3 client has retrieved it, without a DELE; without the
// setting, retrieved mail stays.
func TestSettingsKillReadMail(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		b := newBBS(t)
		if on {
			b.routingSysMisc(1<<27, 0)
		} else {
			b.routingSysMisc(0, 1<<27)
		}
		b.start()
		b.addUser("Reader", "Kill-Read-7")
		coreDeliver(t, b, "joe@example.org", "reader@bbs.test", "read me once")
		rows := coreMailList(b, "Reader")
		if len(rows) != 1 || strings.Contains(rows[0], "kill-read") != on {
			t.Fatalf("Kill Read E-mail %t: mail list:\n%s", on, strings.Join(rows, "\n"))
		}
		settingsPOP3RetrQuit(t, b, "Reader", "Kill-Read-7")
		if rows := coreMailList(b, "Reader"); (len(rows) == 0) != on {
			t.Fatalf("Kill Read E-mail %t: after RETR and QUIT the mailbox holds:\n%s", on, strings.Join(rows, "\n"))
		}
	}
}

// settingsDialFrom dials addr from the local address src.
func settingsDialFrom(t *testing.T, src, addr string) *conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

// RateLimitFilterThreshold: a client over MaxRequestsPerPeriod is
// disconnected and written to ip.can with Synchronet's reason and the
// duration. (The servers never apply ip.can to loopback clients, so the
// refusal that follows is the unit tests' and filters' business.)
func TestSettingsRateLimitFilter(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.mail["MaxRequestsPerPeriod"] = "3"
	b.mail["RateLimitFilterThreshold"] = "1"
	b.mail["RateLimitFilterDuration"] = "1h"
	b.start()
	c := settingsDialFrom(t, guardStranger, b.addr(b.ports.SMTP))
	c.expect("220 ")
	for {
		c.send("NOOP")
		if r := c.reply(); strings.HasPrefix(r, "421 ") {
			break
		}
	}
	coreWaitLog(b, "SMTP !BLOCKING IP ADDRESS: 127.0.0.2 in ip.can")
	ipcan, err := os.ReadFile(filepath.Join(b.root, "text", "ip.can"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^127\.0\.0\.2\tt=\d{8}T\d{6}[-+]\d{4}\tp=SMTP\tr=1 rate-limit violations\te=\d{8}T\d{6}[-+]\d{4}$`)
	if !line.Match(ipcan) {
		t.Fatalf("ip.can:\n%s", ipcan)
	}
}

// The pause semaphore: while ctrl/pause exists no new connection is
// accepted (the client waits in the backlog, ungreeted); once it is
// removed, the waiting client is greeted.
func TestSettingsPauseSemaphore(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.glob["SemFileCheckFrequency"] = "1"
	b.start()
	pause := filepath.Join(b.ctrl, "pause.mail")
	coreWrite(t, pause, "")
	coreWaitLog(b, "Pause semaphore file ("+pause+") detected")
	c := dial(t, b.addr(b.ports.SMTP))
	if err := os.Remove(pause); err != nil {
		t.Fatal(err)
	}
	c.expect("220 ")
	coreWaitLog(b, "SMTP connection accepted")
	log := b.log.String()
	resumed := strings.Index(log, "accepting connections again")
	accepted := strings.Index(log, "SMTP connection accepted")
	if resumed < 0 || accepted < resumed {
		t.Fatalf("the connection was accepted during the pause:\n%s", log)
	}
}

package test

import (
	"strings"
	"testing"
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

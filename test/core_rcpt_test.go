package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// coreRcptCase is one recipient tried over SMTP: the RCPT reply it must get
// and, when accepted, whose mailbox the message must land in.
type coreRcptCase struct {
	rcpt string // the RCPT TO argument, brackets included
	code string // reply prefix: "250 " or "550 5.1.1 "
	user string // mailbox that receives it ("" when refused)
}

// coreRcptSetup creates the users every recipient test uses:
// #1 Coordinator (the BBS's first user, whom sysop aliases reach),
// #2 Digital Man (real name Rob Swindell), #3 Shopper, whose tag "spam"
// is blocked in data/user/0003.smtpblock.
func coreRcptSetup(t *testing.T, b *bbs) {
	t.Helper()
	for i, u := range []struct{ alias, real string }{
		{"Coordinator", "Pat Example"}, {"Digital Man", "Rob Swindell"}, {"Shopper", "Sam Shopper"},
	} {
		if n := b.addUser(u.alias, "Rcpt-Pass-1", "--realname", u.real); n != i+1 {
			t.Fatalf("user %s is #%d, want #%d", u.alias, n, i+1)
		}
	}
	coreWrite(t, filepath.Join(b.root, "data", "user", "0003.smtpblock"), "; burned addresses\nspam\n")
}

// coreRunRcpts tries every case in one SMTP session (one transaction per
// recipient, the subject naming the recipient), then checks each mailbox.
func coreRunRcpts(t *testing.T, b *bbs, cases []coreRcptCase) {
	t.Helper()
	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	want := map[string][]string{}
	for i, tc := range cases {
		c.send("MAIL FROM:<joe@example.org>")
		c.expect("250 ")
		c.send("RCPT TO:" + tc.rcpt)
		if r := c.reply(); !strings.HasPrefix(r, tc.code) {
			t.Errorf("RCPT TO:%s: got %q, want %q", tc.rcpt, r, tc.code)
			c.send("RSET")
			c.expect("250 ")
			continue
		}
		if tc.user == "" {
			c.send("RSET")
			c.expect("250 ")
			continue
		}
		subject := fmt.Sprintf("case %d", i)
		c.send("DATA")
		c.expect("354 ")
		c.send(strings.TrimSuffix(coreMessage("joe@example.org", "rcpt@bbs.test", subject), "\r\n") + "\r\n.")
		c.expect("250 ")
		want[tc.user] = append(want[tc.user], subject)
	}
	c.send("QUIT")
	c.expect("221 ")
	for _, u := range []string{"Coordinator", "Digital Man", "Shopper"} {
		rows := coreMailList(b, u)
		for _, s := range want[u] {
			if !coreHasSubject(rows, s) {
				t.Errorf("%s (%s) is not in %s's mailbox", s, casesBySubject(cases, s), u)
			}
		}
		if len(rows) != len(want[u]) {
			t.Errorf("%s's mailbox holds %d messages, want %d:\n%s", u, len(rows), len(want[u]), strings.Join(rows, "\n"))
		}
	}
}

func casesBySubject(cases []coreRcptCase, subject string) string {
	var i int
	if _, err := fmt.Sscanf(subject, "case %d", &i); err != nil || i >= len(cases) {
		return "?"
	}
	return cases[i].rcpt
}

// With the test tree as shipped (stock alias.cfg, msgs.ini with "Receive
// E-mail by Real Name", no ALLOW_SYSOP_ALIASES, no DefaultUser), an MTA's
// RCPT reaches the user by alias with any punctuation, by real name with
// dots, through alias.cfg, and through "name#tag" unless the tag is in
// the user's smtpblock file; anything else is 550 Unknown User.
func TestCoreRecipientsStock(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	coreRcptSetup(t, b)
	const ok, unknown = "250 ", "550 5.1.1 "
	coreRunRcpts(t, b, []coreRcptCase{
		{"<digital.man@bbs.test>", ok, "Digital Man"},
		{"<digital_man@bbs.test>", ok, "Digital Man"},
		{"<d-i-g-i-t-a-l-man@bbs.test>", ok, "Digital Man"},
		{"<DigitalMan@BBS.TEST>", ok, "Digital Man"},
		{`<"Digital Man"@bbs.test>`, ok, "Digital Man"},
		{"<rob.swindell@bbs.test>", ok, "Digital Man"},
		{"<Rob.Swindell@bbs.test>", ok, "Digital Man"},
		{"<postmaster@bbs.test>", ok, "Coordinator"}, // alias.cfg: postmaster 1
		{"<webmaster@bbs.test>", ok, "Coordinator"},  // alias.cfg: webmaster 1
		{"<sysop@bbs.test>", ok, "Coordinator"},      // the operator's name
		{"<Postmaster>", ok, "Coordinator"},          // RFC 5321 §4.5.1: no domain needed
		{"<shopper#deals@bbs.test>", ok, "Shopper"},
		{"<shopper#spam@bbs.test>", unknown, ""},
		{"<mybbs@bbs.test>", unknown, ""}, // the QWK-ID needs ALLOW_SYSOP_ALIASES
		{"<nobody@bbs.test>", unknown, ""},
		{"<digital.man.x@bbs.test>", unknown, ""},
	})
}

// Without "Receive E-mail by Real Name" (msgs.ini settings bit 0x10000)
// real names are unknown; without alias.cfg and ALLOW_SYSOP_ALIASES,
// postmaster is unknown too — only the operator's own name still reaches
// user #1.
func TestCoreRecipientsNoRealNamesNoAliases(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreEdit(t, filepath.Join(b.ctrl, "msgs.ini"), "settings=0xffff0000", "settings=0xfffe0000")
	coreWrite(t, filepath.Join(b.ctrl, "alias.cfg"), "; no aliases\n")
	b.start()
	coreRcptSetup(t, b)
	const ok, unknown = "250 ", "550 5.1.1 "
	coreRunRcpts(t, b, []coreRcptCase{
		{"<digital.man@bbs.test>", ok, "Digital Man"},
		{"<rob.swindell@bbs.test>", unknown, ""},
		{"<postmaster@bbs.test>", unknown, ""},
		{"<sysop@bbs.test>", ok, "Coordinator"},
	})
}

// ALLOW_SYSOP_ALIASES makes sysop, postmaster and the QWK-ID reach user #1
// without alias.cfg; DefaultUser takes mail for names nobody has, but a
// blocked tag of a real user stays refused.
func TestCoreRecipientsSysopAliasesDefaultUser(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "alias.cfg"), "; no aliases\n")
	b.mail["Options"] = "ALLOW_POP3 | ALLOW_SYSOP_ALIASES | NO_HOST_LOOKUP | NO_SENDMAIL"
	b.mail["DefaultUser"] = "Digital Man"
	b.start()
	coreRcptSetup(t, b)
	const ok, unknown = "250 ", "550 5.1.1 "
	coreRunRcpts(t, b, []coreRcptCase{
		{"<postmaster@bbs.test>", ok, "Coordinator"},
		{"<sysop@bbs.test>", ok, "Coordinator"},
		{"<MYBBS@bbs.test>", ok, "Coordinator"},
		{"<nobody@bbs.test>", ok, "Digital Man"},
		{"<nobody#x@bbs.test>", ok, "Digital Man"},
		{"<shopper#spam@bbs.test>", unknown, ""},
		{"<shopper@bbs.test>", ok, "Shopper"},
	})
}

package test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Crashmail II (Debian's crashmail) is the FidoNet node at the other end
// of these tests: the uplink 1:2/1 of the BBS 1:2/3. It tosses the
// packets bbsmail writes into a *.MSG netmail area, and routes netmail
// written by its own crashwrite to the BBS as a BSO packet that bbsmail
// tosses.

const crashmailPrefs = `SYSOP "Uplink Sysop"
LOGFILE "%[1]s/crashmail.log"
LOGLEVEL 6
DUPEFILE "%[1]s/dupes" 200
DUPEMODE BAD
DEFAULTZONE 1
INBOUND "%[1]s/in"
OUTBOUND "%[1]s/out"
TEMPDIR "%[1]s/tmp"
CREATEPKTDIR "%[1]s/tmp"
PACKETDIR "%[1]s/pkt"
FORCEINTL
AKA 1:2/1
DOMAIN "FidoNet"
NODE 1:2/3 "" "SECRET"
ROUTE "1:2/3" "1:2/3" 1:2/1
NETMAIL "NETMAIL" 1:2/1 MSG "%[1]s/netmail"
AREA "BAD" 1:2/1 MSG "%[1]s/bad"
`

// uplink is a crashmail installation in a temporary directory.
type uplink struct {
	t     *testing.T
	dir   string
	prefs string
	bin   string
}

func newUplink(t *testing.T) *uplink {
	u := &uplink{t: t, dir: t.TempDir(), bin: needTool(t, "crashmail", "crashmail")}
	for _, d := range []string{"in", "out", "tmp", "pkt", "netmail", "bad"} {
		if err := os.MkdirAll(filepath.Join(u.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	u.prefs = filepath.Join(u.dir, "crashmail.prefs")
	if err := os.WriteFile(u.prefs, []byte(fmt.Sprintf(crashmailPrefs, u.dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *uplink) run(name string, args ...string) string {
	u.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = u.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		u.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (u *uplink) toss() string {
	return u.run(u.bin, "SETTINGS", u.prefs, "TOSS")
}

// uplinkedBBS starts a BBS at 1:2/3 whose uplink is crashmail's 1:2/1,
// with the [Mail] keys in extra, and the users Sysop and Bob (Bob Smith).
func uplinkedBBS(t *testing.T, extra map[string]string) *bbs {
	b := newBBS(t)
	b.routingFTN("1:2/3")
	b.mail["FidoUplink"] = "1:2/1"
	b.mail["FidoUplinkPacketPwd"] = "secret"
	b.mail["FidoFrequency"] = "1h"
	for k, v := range extra {
		b.mail[k] = v
	}
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Bob", routingPW, "--realname", "Bob Smith")
	return b
}

// write has crashwrite write netmail from the uplink's sysop to name at
// the BBS, tosses it, and returns the packet crashmail routed to 1:2/3.
func (u *uplink) write(name, subject, text string) []byte {
	u.t.Helper()
	body := filepath.Join(u.dir, "text.txt")
	if err := os.WriteFile(body, []byte(text), 0o644); err != nil {
		u.t.Fatal(err)
	}
	routed := filepath.Join(u.dir, "out", "00020003.out")
	os.Remove(routed)
	u.run(filepath.Join(filepath.Dir(u.bin), "crashwrite"), "DIR", filepath.Join(u.dir, "in"), "FROMNAME", "Uplink Sysop", "FROMADDR", "1:2/1",
		"TONAME", name, "TOADDR", "1:2/3", "SUBJECT", subject, "TEXT", body, "PASSWORD", "SECRET")
	u.toss()
	pkt, err := os.ReadFile(routed)
	if err != nil {
		u.t.Fatalf("crashmail routed nothing to 1:2/3: %v", err)
	}
	return pkt
}

// fidoInbound puts pkt into the BBS's secure inbound as name, as binkd
// would, and returns its path.
func (b *bbs) fidoInbound(pkt []byte, name string) string {
	b.t.Helper()
	inbound := filepath.Join(b.root, "fido", "inbound")
	if err := os.MkdirAll(inbound, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(inbound, name)
	if err := os.WriteFile(path, pkt, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// tossOne hands pkt to crashmail as binkd would (a .pkt in its inbound),
// tosses, and returns the one message that lands in its netmail area.
func (u *uplink) tossOne(pkt []byte, name string) storedMsg {
	u.t.Helper()
	if err := os.WriteFile(filepath.Join(u.dir, "in", name), pkt, 0o644); err != nil {
		u.t.Fatal(err)
	}
	log := u.toss()
	msgs, _ := filepath.Glob(filepath.Join(u.dir, "netmail", "*.msg"))
	if len(msgs) != 1 {
		logText, _ := os.ReadFile(filepath.Join(u.dir, "crashmail.log"))
		u.t.Fatalf("crashmail put %d messages in its netmail area:\n%s\n%s", len(msgs), log, logText)
	}
	return readStoredMsg(u.t, msgs[0])
}

// storedMsg is an FTS-0001 stored message (*.MSG) as crashmail writes it.
type storedMsg struct {
	from, to, subject, date string
	attr                    uint16
	text                    []byte
}

func readStoredMsg(t *testing.T, path string) storedMsg {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 190 {
		t.Fatalf("%s: %d bytes, shorter than a *.MSG header", path, len(b))
	}
	field := func(f []byte) string {
		if i := bytes.IndexByte(f, 0); i >= 0 {
			f = f[:i]
		}
		return string(f)
	}
	text := b[190:]
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	return storedMsg{from: field(b[0:36]), to: field(b[36:72]), subject: field(b[72:144]), date: field(b[144:164]),
		attr: binary.LittleEndian.Uint16(b[186:]), text: text}
}

// TestFidoNetCrashmail sends netmail from an Internet client to a FidoNet
// sysop and back: bbsmail packs the message into the uplink's BSO packet,
// crashmail tosses it (checking the packet password) into its *.MSG
// netmail area; crashwrite's netmail to the BBS, routed by crashmail into
// a BSO packet, reaches the user's POP3 mailbox.
func TestFidoNetCrashmail(t *testing.T) {
	t.Parallel()
	up := newUplink(t)
	b := uplinkedBBS(t, nil)

	// Out: Internet mail with a UTF-8 subject and body.
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"uplink.sysop@f1.n2.z1.fidonet"},
		subject: "Grüße aus dem Netz", body: "Hallo Uplink,\nschöne Grüße.\n", auth: []string{"bob", routingPW}})
	outbound := filepath.Join(b.root, "fido", "outbound", "00020001.out")
	waitFor(t, 30*time.Second, "the packet for 1:2/1 in the outbound", func() bool {
		return fileExists(outbound)
	})
	if rows := routingRows(b.must("netmail", "list")); len(rows) != 1 || !strings.Contains(rows[0], " packed ") || !strings.Contains(rows[0], outbound) {
		t.Errorf("netmail list: want the netmail packed into %s:\n%s", outbound, strings.Join(rows, "\n"))
	}
	pkt, err := os.ReadFile(outbound)
	if err != nil {
		t.Fatal(err)
	}
	m := up.tossOne(pkt, "0badcafe.pkt")
	text := string(m.text)
	if m.to != "uplink sysop" && m.to != "Uplink Sysop" {
		t.Errorf("crashmail's message is to %q", m.to)
	}
	// CP437: ü is 0x81, ß is 0xE1, ö is 0x94.
	if m.subject != "Gr\x81\xe1e aus dem Netz" || !strings.Contains(text, "Hallo Uplink,\rsch\x94ne Gr\x81\xe1e.") {
		t.Errorf("subject %q, text %q", m.subject, text)
	}
	for _, k := range []string{"\x01INTL 1:2/1 1:2/3", "\x01MSGID: 1:2/3 ", "\x01CHRS: CP437 2", "\x01REPLYADDR: bob@bbs.test", "\x01TZUTC: "} {
		if !strings.Contains(text, k) {
			t.Errorf("crashmail's message lacks %q:\n%q", k, text)
		}
	}

	// In: crashwrite's netmail to Bob Smith, routed by crashmail to 1:2/3.
	pkt = up.write("Bob Smith", "Re: your netmail", "Thanks Bob, all well here.\n")
	inPkt := b.fidoInbound(pkt, "7e57ab1e.pkt")
	b.must("netmail", "scan")
	waitFor(t, 30*time.Second, "the inbound packet to be tossed", func() bool { return !fileExists(inPkt) })
	got := python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Bob", routingPW)
	for _, want := range []string{"From: Uplink Sysop <Uplink.Sysop@f1.n2.z1.fidonet>", "Subject: Re: your netmail",
		"Message-ID: <", "\nThanks Bob, all well here.\n====="} {
		if !strings.Contains(got, want) {
			t.Errorf("Bob's mailbox lacks %q:\n%q", want, got)
		}
	}
}

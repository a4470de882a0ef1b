package ftn

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// memBoxes is Mailboxes in memory, with duplicate detection by key.
type memBoxes struct {
	keys map[string]bool
	got  []Incoming
	fail error
}

func (m *memBoxes) Deliver(_ context.Context, in Incoming) (string, bool, error) {
	if m.fail != nil {
		return "", false, m.fail
	}
	if m.keys == nil {
		m.keys = map[string]bool{}
	}
	if m.keys[in.Key] {
		return in.To, true, nil
	}
	m.keys[in.Key] = true
	m.got = append(m.got, in)
	return in.To, false, nil
}

func tossConfig(t *testing.T) (*Config, string) {
	in := t.TempDir()
	return &Config{
		Addrs:   []Addr{mustAddr(t, "1:2/3")},
		Inbound: []string{in},
		Host:    "bbs.example",
		Links:   []Link{{Addr: mustAddr(t, "1:2/1"), PacketPwd: "SeCrEt"}},
	}, in
}

func inboundPacket(t *testing.T, dir, name, pwd string, msgs ...Message) string {
	t.Helper()
	h := Header{Orig: mustAddr(t, "1:2/1"), Dest: mustAddr(t, "1:2/3"), Password: pwd, Created: time.Now(), Plus: true}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, Encode(h, msgs), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func netmailTo(to, from, subject string, kludges []Kludge, body string, cs Charset) Message {
	return Message{Orig: Addr{Net: 5, Node: 6}, Dest: Addr{Net: 2, Node: 3}, Attr: AttrPrivate,
		Date: "02 Mar 26  11:12:13", To: to, From: string(cs.Encode(from)), Subject: string(cs.Encode(subject)),
		Text: BuildText(append([]Kludge{{"INTL", "1:2/3 2:5/6"}}, kludges...), body, cs)}
}

func TestScanImports(t *testing.T) {
	c, dir := tossConfig(t)
	msgs := []Message{
		netmailTo("Bob Smith", "Jörg Müller", "Grüße", []Kludge{{"MSGID", "2:5/6 1a2b3c4d"}, {"REPLY", "1:2/3 00000001"},
			{"TZUTC", "0100"}, {"CHRS", "UTF-8 4"}, {"PID", "Squish 1.11"}}, "Hallo Bob,\nwie geht's?", UTF8),
		netmailTo("Sysop", "Gate Way", "via gateway", []Kludge{{"REPLYADDR", "someone@example.net"}}, "line ░", CP437),
	}
	// A soft CR (0x8D) in a CP437 text is no character.
	msgs[1].Text = bytes.Replace(msgs[1].Text, []byte("line"), []byte("\x8dline"), 1)
	path := inboundPacket(t, dir, "0001abcd.PKT", "secret", msgs...)
	s := &Scanner{Config: c}
	mb := &memBoxes{}
	res, err := s.Scan(context.Background(), mb)
	if err != nil || res.Packets != 1 || res.Imported != 2 {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("packet still there: %v", err)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(mb.got[0].Message)))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := (&mail.AddressParser{}).Parse(m.Header.Get("From"))
	subj, _ := decoder.DecodeHeader(m.Header.Get("Subject"))
	date, _ := m.Header.Date()
	body := make([]byte, 100)
	n, _ := m.Body.Read(body)
	if from == nil || from.Name != "Jörg Müller" || from.Address != "Jrg.Mller@f6.n5.z2.fidonet" {
		t.Errorf("From = %q", m.Header.Get("From"))
	}
	if subj != "Grüße" || !date.Equal(time.Date(2026, 3, 2, 10, 12, 13, 0, time.UTC)) {
		t.Errorf("Subject %q Date %v", subj, date)
	}
	if m.Header.Get("Message-ID") != "<1a2b3c4d.2.5.6.0@fidonet>" || m.Header.Get("In-Reply-To") != "<00000001.1.2.3.0@fidonet>" {
		t.Errorf("ids %q %q", m.Header.Get("Message-ID"), m.Header.Get("In-Reply-To"))
	}
	if got := string(body[:n]); got != "Hallo Bob,\r\nwie geht's?\r\n" || !strings.Contains(m.Header.Get("Content-Type"), "utf-8") {
		t.Errorf("body %q", got)
	}
	if mb.got[0].To != "Bob Smith" || mb.got[0].Key != "msgid 2:5/6 1a2b3c4d" {
		t.Errorf("incoming %+v", mb.got[0])
	}
	second := string(mb.got[1].Message)
	if !strings.Contains(second, "From: \"Gate Way\" <someone@example.net>") || !strings.Contains(second, "\r\n\r\nline ░\r\n") {
		t.Errorf("second message:\n%s", second)
	}
	// The same packet again (a link resending it, or a crash before the
	// removal) stores nothing.
	inboundPacket(t, dir, "0001abce.pkt", "SECRET", msgs...)
	res, err = s.Scan(context.Background(), mb)
	if err != nil || res.Packets != 1 || res.Dups != 2 || len(mb.got) != 2 {
		t.Fatalf("rescan = %+v, %v (%d stored)", res, err, len(mb.got))
	}
}

// TestScanZonelessPacket: a Type-2 packet without zones from a link with
// a password is checked as from our zone, and its netmail reaches us.
func TestScanZonelessPacket(t *testing.T) {
	c, dir := tossConfig(t)
	for i, pwd := range []string{"wrong", "secret"} {
		h := Header{Orig: Addr{Net: 2, Node: 1}, Dest: Addr{Net: 2, Node: 3}, Password: pwd, Created: time.Now()}
		b := EncodeHeader(h)
		b[44], b[45], b[40], b[41] = 0, 0, 0, 0 // no capability word: plain Type-2
		m := Message{Orig: Addr{Net: 2, Node: 1}, Dest: Addr{Net: 2, Node: 3}, Date: "02 Mar 26  11:12:13", To: "Bob", From: "Al", Subject: "s", Text: []byte("hi\r")}
		b = append(AppendMessage(b, &m), 0, 0)
		os.WriteFile(filepath.Join(dir, "0000000"+string(rune('1'+i))+".pkt"), b, 0o644)
	}
	mb := &memBoxes{}
	res, err := (&Scanner{Config: c}).Scan(context.Background(), mb)
	if err != nil || res.Bad != 1 || res.Imported != 1 {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
}

func TestScanSetsAsideAndLeaves(t *testing.T) {
	c, dir := tossConfig(t)
	mail := netmailTo("Bob", "Al", "s", nil, "b", CP437)
	wrong := inboundPacket(t, dir, "00000001.pkt", "guess", mail)
	garbage := filepath.Join(dir, "00000002.pkt")
	os.WriteFile(garbage, []byte("not a packet at all, not even close........................................"), 0o644)
	echo := Message{Orig: Addr{Net: 2, Node: 1}, Dest: Addr{Net: 2, Node: 3}, To: "All", From: "X", Subject: "e",
		Date: "02 Mar 26  11:12:13", Text: []byte("AREA:FIDOTEST\rhello\r")}
	mixed := inboundPacket(t, dir, "00000003.pkt", "secret", mail, echo)
	transit := netmailTo("Zed", "Al", "s", nil, "b", CP437)
	transit.Text = BuildText([]Kludge{{"INTL", "1:9/9 2:5/6"}}, "b", CP437)
	transit.Dest = Addr{Net: 9, Node: 9}
	other := inboundPacket(t, dir, "00000004.pkt", "secret", transit)
	mb := &memBoxes{}
	res, err := (&Scanner{Config: c}).Scan(context.Background(), mb)
	if err != nil || res.Bad != 2 || res.Left != 2 || len(mb.got) != 0 {
		t.Fatalf("Scan = %+v, %v, stored %d", res, err, len(mb.got))
	}
	for _, p := range []string{wrong, garbage} {
		if _, err := os.Stat(strings.TrimSuffix(p, ".pkt") + ".bad"); err != nil {
			t.Errorf("%s not set aside: %v", p, err)
		}
	}
	for _, p := range []string{mixed, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was not left alone: %v", p, err)
		}
	}
}

// TestScanKeepsPacketOnFailure: when the mailbase fails, the packet stays
// for the next scan.
func TestScanKeepsPacketOnFailure(t *testing.T) {
	c, dir := tossConfig(t)
	path := inboundPacket(t, dir, "00000001.pkt", "secret", netmailTo("Bob", "Al", "s", nil, "b", CP437))
	mb := &memBoxes{fail: errors.New("disk full")}
	if _, err := (&Scanner{Config: c}).Scan(context.Background(), mb); err == nil {
		t.Fatal("Scan hid the failure")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("packet gone after a failed store: %v", err)
	}
}

// TestScanBundles unpacks a ZIP bundle's packets and tosses them; a bundle
// in another archive format stays for a tosser that can read it.
func TestScanBundles(t *testing.T) {
	c, dir := tossConfig(t)
	h := Header{Orig: mustAddr(t, "1:2/1"), Dest: mustAddr(t, "1:2/3"), Password: "secret", Created: time.Now(), Plus: true}
	pkt := Encode(h, []Message{netmailTo("Bob", "Al", "bundled", []Kludge{{"MSGID", "2:5/6 00000001"}}, "b", CP437)})
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("1234abcd.pkt")
	w.Write(pkt)
	zw.Close()
	zipped := filepath.Join(dir, "00010002.MO0")
	os.WriteFile(zipped, zb.Bytes(), 0o644)
	arc := filepath.Join(dir, "00010002.tu1")
	os.WriteFile(arc, []byte("\x1a\x08not zip"), 0o644)
	mb := &memBoxes{}
	res, err := (&Scanner{Config: c}).Scan(context.Background(), mb)
	if err != nil || res.Imported != 1 || res.Packets != 1 {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	if fileExists(zipped) || !fileExists(arc) || mb.got[0].Key != "msgid 2:5/6 00000001" {
		t.Errorf("bundle left %v, ARC bundle kept %v, got %+v", fileExists(zipped), fileExists(arc), mb.got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.pkt*")); len(left) != 0 {
		t.Errorf("left in the inbound: %v", left)
	}
}

// Netmail counts as Secure (its origin vouched for, so a bounce may go
// back to it) only from the secure inbound or with its link's packet
// password; a passwordless packet in the common inbound names any origin
// it likes.
func TestScanSecure(t *testing.T) {
	c, dir := tossConfig(t)
	secureDir := t.TempDir()
	c.Inbound = []string{secureDir, dir}
	c.SecureInbound = secureDir
	msg := func(id string) Message {
		return netmailTo("Bob", "Al", "s", []Kludge{{"MSGID", "2:5/6 " + id}}, "hi", CP437)
	}
	// The link 1:2/1 has a password: given, it vouches.
	inboundPacket(t, dir, "00000001.pkt", "secret", msg("00000001"))
	// No link has a password for 1:9/9: in the common inbound, nobody
	// vouches; in the secure inbound, the mailer did.
	h := Header{Orig: mustAddr(t, "1:9/9"), Dest: mustAddr(t, "1:2/3"), Created: time.Now(), Plus: true}
	os.WriteFile(filepath.Join(dir, "00000002.pkt"), Encode(h, []Message{msg("00000002")}), 0o644)
	os.WriteFile(filepath.Join(secureDir, "00000003.pkt"), Encode(h, []Message{msg("00000003")}), 0o644)
	mb := &memBoxes{}
	if res, err := (&Scanner{Config: c}).Scan(context.Background(), mb); err != nil || res.Imported != 3 {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	want := map[string]bool{"msgid 2:5/6 00000001": true, "msgid 2:5/6 00000002": false, "msgid 2:5/6 00000003": true}
	for _, in := range mb.got {
		if in.Secure != want[in.Key] {
			t.Errorf("%s: Secure = %v, want %v", in.Key, in.Secure, want[in.Key])
		}
	}
}

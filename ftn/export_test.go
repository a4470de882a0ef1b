package ftn

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSpool is a Spool in memory.
type memSpool struct {
	mu      sync.Mutex
	pending map[uint64]Outgoing
	packed  map[uint64]Mark
	gone    []uint64
	// exports records each Exported call: the packet and fresh.
	exports []string
}

func newSpool(msgs ...Outgoing) *memSpool {
	s := &memSpool{pending: map[uint64]Outgoing{}, packed: map[uint64]Mark{}}
	for _, m := range msgs {
		s.pending[m.ID] = m
	}
	return s
}

func (s *memSpool) Pending() ([]Outgoing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Outgoing
	for id, m := range s.pending {
		if _, p := s.packed[id]; !p {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *memSpool) Pack(ids []uint64, tmp, final string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.packed[id] = Mark{Tmp: tmp, Final: final}
	}
	return nil
}

func (s *memSpool) Unpack(ids []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.packed, id)
	}
	return nil
}

func (s *memSpool) Exported(ids []uint64, final string, fresh bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports = append(s.exports, fmt.Sprintf("%s %v", filepath.Base(final), fresh))
	for _, id := range ids {
		delete(s.packed, id)
		delete(s.pending, id)
		s.gone = append(s.gone, id)
	}
	return nil
}

func (s *memSpool) Packed() (map[uint64]Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[uint64]Mark{}
	for k, v := range s.packed {
		out[k] = v
	}
	return out, nil
}

func internetMail(id uint64, to, dest, subject, body string) Outgoing {
	d, _ := ParseAddr(dest)
	msg := "Received: from x by y; Mon, 2 Mar 2026 10:00:00 +0000\r\n" +
		"From: \"Jane Doe\" <jane@example.org>\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" +
		"Date: Mon, 02 Mar 2026 11:12:13 +0100\r\nMessage-ID: <m" + fmt.Sprint(id) + "@example.org>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
	return Outgoing{ID: id, To: to, Dest: d, Message: []byte(msg), Received: time.Unix(1700000000, 0)}
}

func testConfig(t *testing.T) *Config {
	dir := t.TempDir()
	return &Config{
		Addrs:    []Addr{mustAddr(t, "1:2/3"), mustAddr(t, "2:20/30")},
		Outbound: filepath.Join(dir, "outbound"),
		Charset:  CP437,
		PID:      "bbsmail test",
		Links: []Link{
			{Addr: mustAddr(t, "1:2/1"), PacketPwd: "pw1"},
			{Addr: mustAddr(t, "1:ALL"), Route: mustAddr(t, "1:2/1")},
			{Addr: mustAddr(t, "2:20/1"), Flavour: Crash},
			{Addr: mustAddr(t, "1:9/9"), Flavour: Hold},
		},
	}
}

func decodeFile(t *testing.T, path string) *Packet {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func TestBSOPaths(t *testing.T) {
	c := &Config{Addrs: []Addr{mustAddr(t, "1:2/3")}, Outbound: "/o/outbound"}
	for _, tc := range []struct {
		addr string
		fl   Flavour
		want string
	}{
		{"1:2/1", Normal, "/o/outbound/00020001.out"},
		{"1:261/38", Crash, "/o/outbound/01050026.cut"},
		{"2:5020/1042", Hold, "/o/outbound.002/139c0412.hut"},
		{"1:2/1.5", Direct, "/o/outbound/00020001.pnt/00000005.dut"},
		{"39:1/1", Normal, "/o/outbound.027/00010001.out"},
	} {
		if got := c.PacketPath(mustAddr(t, tc.addr), tc.fl); got != tc.want {
			t.Errorf("PacketPath(%s, %c) = %s, want %s", tc.addr, tc.fl, got, tc.want)
		}
	}
}

// TestExportRoutesAndAppends: netmail to an unlisted node of zone 1 goes
// through the uplink 1:2/1 with its password; a crash link gets a .cut in
// the zone 2 outbound; a second run appends to the waiting packet.
func TestExportRoutesAndAppends(t *testing.T) {
	c := testConfig(t)
	sp := newSpool(
		internetMail(1, "Bob Smith", "1:100/200", "Hello", "Grüße\r\nline 2\r\n"),
		internetMail(2, "Sysop", "2:20/1", "To zone 2", "hi\r\n"),
		internetMail(3, "Point Pete", "1:9/9.4", "Hold me", "x\r\n"),
	)
	n, err := c.Export(sp)
	if err != nil || n != 3 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	up := c.PacketPath(mustAddr(t, "1:2/1"), Normal)
	p := decodeFile(t, up)
	if p.Header.Password != "PW1" || p.Header.Orig != mustAddr(t, "1:2/3") || p.Header.Dest != mustAddr(t, "1:2/1") || len(p.Messages) != 2 {
		t.Fatalf("uplink packet %+v", p.Header)
	}
	m := p.Messages[0]
	txt := ParseText(m.Text, ASCII)
	if m.Dest != mustAddr(t, "1:100/200") || m.To != "Bob Smith" || m.From != "Jane Doe" || m.Subject != "Hello" {
		t.Errorf("message %+v", m)
	}
	if txt.Body != "Grüße\nline 2" || txt.Charset != CP437 {
		t.Errorf("body %q (%v)", txt.Body, txt.Charset)
	}
	for name, want := range map[string]string{"INTL": "1:100/200 1:2/3", "REPLYADDR": "jane@example.org",
		"TZUTC": "0100", "CHRS": "CP437 2", "PID": "bbsmail test", "REPLYTO": "1:2/3 UUCP"} {
		if v, _ := txt.Kludge(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if m.Date != "02 Mar 26  11:12:13" {
		t.Errorf("date %q", m.Date)
	}
	z2 := decodeFile(t, c.PacketPath(mustAddr(t, "2:20/1"), Crash))
	if z2.Header.Orig != mustAddr(t, "2:20/30") || len(z2.Messages) != 1 {
		t.Errorf("zone 2 packet %+v", z2.Header)
	}
	// 1:9/9.4 is an unconfigured point, and 1:ALL routes all of zone 1 to
	// the uplink before the boss rule applies, as in sbbsecho.
	if p.Messages[1].Dest != mustAddr(t, "1:9/9.4") {
		t.Errorf("second uplink message to %v", p.Messages[1].Dest)
	}
	if len(sp.pending) != 0 {
		t.Errorf("left in the spool: %v", sp.pending)
	}
	sp2 := newSpool(internetMail(4, "Bob Smith", "1:100/200", "Again", "two\r\n"))
	if n, err := c.Export(sp2); err != nil || n != 1 {
		t.Fatalf("second Export = %d, %v", n, err)
	}
	if p := decodeFile(t, up); len(p.Messages) != 3 {
		t.Errorf("after appending: %d messages, want 3", len(p.Messages))
	}
	// The spool learns the packet each netmail went into, and whether it
	// was started anew.
	if got := strings.Join(append(sp.exports, sp2.exports...), ", "); got != "00020001.out true, 00140001.cut true, 00020001.out false" {
		t.Errorf("exports: %s", got)
	}
	if m, _ := filepath.Glob(filepath.Join(c.Outbound, "*.bsy")); len(m) != 0 {
		t.Errorf("locks left: %v", m)
	}
}

// TestExportBusy leaves netmail in the spool while a mailer holds the
// node's .bsy.
func TestExportBusy(t *testing.T) {
	c := testConfig(t)
	os.MkdirAll(c.Outbound, 0o755)
	os.WriteFile(filepath.Join(c.Outbound, "00020001.bsy"), []byte("binkd 1\n"), 0o644)
	sp := newSpool(internetMail(1, "Bob", "1:2/1", "s", "b\r\n"))
	if n, err := c.Export(sp); err != nil || n != 0 || len(sp.pending) != 1 {
		t.Fatalf("Export = %d, %v; pending %d", n, err, len(sp.pending))
	}
}

// TestExportCrash stops an export at each step, as a crash would, and
// checks that the next run delivers every netmail exactly once.
func TestExportCrash(t *testing.T) {
	for _, step := range []string{"packed", "renamed"} {
		t.Run(step, func(t *testing.T) {
			c := testConfig(t)
			sp := newSpool(internetMail(1, "Bob", "1:2/1", "one", "1\r\n"), internetMail(2, "Bob", "1:2/1", "two", "2\r\n"))
			c.AfterStep = func(s string) {
				if s == step {
					panic("crash")
				}
			}
			func() {
				defer func() { _ = recover() }()
				c.Export(sp)
			}()
			// The crashed process's lock is gone with it.
			os.Remove(c.busyPath(mustAddr(t, "1:2/1")))
			c.AfterStep = nil
			if _, err := c.Export(sp); err != nil {
				t.Fatal(err)
			}
			p := decodeFile(t, c.PacketPath(mustAddr(t, "1:2/1"), Normal))
			var subjects []string
			for _, m := range p.Messages {
				subjects = append(subjects, m.Subject)
			}
			if strings.Join(subjects, ",") != "one,two" || len(sp.pending) != 0 || len(sp.packed) != 0 {
				t.Errorf("packet holds %v; pending %d, packed %d", subjects, len(sp.pending), len(sp.packed))
			}
			if tmps, _ := filepath.Glob(filepath.Join(c.Outbound, "*.tmp")); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

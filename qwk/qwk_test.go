package qwk

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ftn"
)

func TestMessageRoundTrip(t *testing.T) {
	date := time.Date(2026, 3, 4, 5, 6, 0, 0, time.Local)
	msgs := []Message{
		{Private: true, Conf: 0, Date: date, To: "SYSOP", From: "Bob", Subject: "Hi", Body: "line 1\nline 2", NetTag: true,
			Kludges: map[string]string{"VIA": "NODE1", "REPLYTO": "bob@example.org"}},
		{Conf: 2001, Date: date, To: "All", From: "A very long sender name over 25", Subject: "A subject that is longer than twenty-five", Body: strings.Repeat("x", 300)},
	}
	b := Header("VERT")
	for i := range msgs {
		b = Encode(b, &msgs[i])
	}
	if len(b)%BlockLen != 0 {
		t.Fatalf("%d bytes", len(b))
	}
	if b[BlockLen+122] != 0xE1 || b[BlockLen+127] != '*' || string(b[BlockLen+1:BlockLen+8]) != "0      " {
		t.Errorf("header block %q", b[BlockLen:2*BlockLen])
	}
	got, err := Decode(b)
	if err != nil || len(got) != 2 {
		t.Fatalf("Decode = %d, %v", len(got), err)
	}
	for i, g := range got {
		w := msgs[i]
		if g.Conf != w.Conf || g.To != w.To || g.From != w.From || g.Subject != w.Subject || g.Body != w.Body ||
			!g.Date.Equal(w.Date) || g.Private != w.Private || g.NetTag != w.NetTag {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	if got[0].Kludges["VIA"] != "NODE1" || got[0].Kludges["REPLYTO"] != "bob@example.org" {
		t.Errorf("kludges %v", got[0].Kludges)
	}
}

func TestDecodeRejects(t *testing.T) {
	m := Message{Date: time.Now(), To: "a", From: "b", Subject: "c", Body: "d"}
	good := Encode(Header("X"), &m)
	bad := map[string][]byte{
		"short":       good[:100],
		"not blocks":  good[:200],
		"status":      append(append(append([]byte{}, good[:BlockLen]...), 0x01), good[BlockLen+1:]...),
		"block count": append(append(append([]byte{}, good[:BlockLen+116]...), []byte("99    ")...), good[BlockLen+122:]...),
	}
	for name, b := range bad {
		if _, err := Decode(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for n, b := range files {
		f, _ := w.Create(n)
		f.Write(b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type memSpool struct {
	pending map[uint64]Outgoing
	packed  map[uint64]ftn.Mark
}

func (s *memSpool) Pending() ([]Outgoing, error) {
	var out []Outgoing
	for id, o := range s.pending {
		if _, p := s.packed[id]; !p {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
func (s *memSpool) Pack(ids []uint64, tmp, final string) error {
	for _, id := range ids {
		s.packed[id] = ftn.Mark{Tmp: tmp, Final: final}
	}
	return nil
}
func (s *memSpool) Unpack(ids []uint64) error {
	for _, id := range ids {
		delete(s.packed, id)
	}
	return nil
}
func (s *memSpool) Exported(ids []uint64, _ string, _ bool) error {
	for _, id := range ids {
		delete(s.packed, id)
		delete(s.pending, id)
	}
	return nil
}
func (s *memSpool) Packed() (map[uint64]ftn.Mark, error) {
	out := map[uint64]ftn.Mark{}
	for k, v := range s.packed {
		out[k] = v
	}
	return out, nil
}

func outgoing(id uint64, to, route, subject string) Outgoing {
	msg := "From: \"Jane Doe\" <jane@example.org>\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@example.org>\r\n" +
		"Date: Mon, 02 Mar 2026 11:12:13 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße\r\n"
	return Outgoing{ID: id, To: to, Route: route, Message: []byte(msg), Received: time.Now()}
}

// TestExportREP writes netmail into the hub's REP, adds to it on a second
// run, and leaves netmail for a disabled hub waiting.
func TestExportREP(t *testing.T) {
	c := &Config{Hubs: []string{"VERT"}, DataDir: t.TempDir(), Host: "bbs.example"}
	sp := &memSpool{packed: map[uint64]ftn.Mark{}, pending: map[uint64]Outgoing{
		1: outgoing(1, "Sysop", "VERT", "one"), 2: outgoing(2, "Joe", "vert/NODE2", "two"), 3: outgoing(3, "X", "OTHER", "three")}}
	if n, err := c.Export(sp); err != nil || n != 2 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	sp.pending[4] = outgoing(4, "Sysop", "VERT", "four")
	if n, err := c.Export(sp); err != nil || n != 1 {
		t.Fatalf("second Export = %d, %v", n, err)
	}
	if _, ok := sp.pending[3]; !ok || len(sp.pending) != 1 {
		t.Errorf("pending after export: %v", sp.pending)
	}
	rep, err := os.ReadFile(c.REPPath("VERT"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := files(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(m["VERT.MSG"], []byte("VERT    ")) {
		t.Errorf("VERT.MSG starts %q", m["VERT.MSG"][:16])
	}
	msgs, err := Decode(m["VERT.MSG"])
	if err != nil || len(msgs) != 3 {
		t.Fatalf("REP holds %d messages, %v", len(msgs), err)
	}
	if msgs[0].To != "Sysop" || msgs[0].From != "Jane Doe" || msgs[0].Body != "Gr\x81\xe1e" || msgs[0].Kludges["REPLYTO"] != "jane@example.org" {
		t.Errorf("first message %+v %q", msgs[0], msgs[0].Body)
	}
	if msgs[1].To != "NETMAIL" || !strings.HasPrefix(msgs[1].Body, "Joe@NODE2\n") {
		t.Errorf("second message To %q body %q", msgs[1].To, msgs[1].Body)
	}
	h := ParseHeaders(m["HEADERS.DAT"])
	if h[msgs[2].Offset]["Message-ID"] != "<four@example.org>" || h[msgs[0].Offset]["To"] != "Sysop" {
		t.Errorf("HEADERS.DAT %v", h)
	}
}

func TestExportREPCrash(t *testing.T) {
	for _, step := range []string{"packed", "renamed"} {
		c := &Config{Hubs: []string{"VERT"}, DataDir: t.TempDir()}
		sp := &memSpool{packed: map[uint64]ftn.Mark{}, pending: map[uint64]Outgoing{1: outgoing(1, "Sysop", "VERT", "one")}}
		c.AfterStep = func(s string) {
			if s == step {
				panic(s)
			}
		}
		func() {
			defer func() { _ = recover() }()
			c.Export(sp)
		}()
		c.AfterStep = nil
		if _, err := c.Export(sp); err != nil {
			t.Fatal(err)
		}
		rep, _ := os.ReadFile(c.REPPath("VERT"))
		m, _ := files(rep)
		msgs, _ := Decode(m["VERT.MSG"])
		if len(msgs) != 1 || len(sp.pending) != 0 {
			t.Errorf("%s: REP holds %d, pending %d", step, len(msgs), len(sp.pending))
		}
	}
}

type memBoxes struct {
	keys map[string]bool
	got  []Incoming
}

func (m *memBoxes) Deliver(_ context.Context, in Incoming) (string, bool, error) {
	if m.keys[in.Key] {
		return in.To, true, nil
	}
	m.keys[in.Key] = true
	m.got = append(m.got, in)
	return in.To, false, nil
}

func TestScanQWK(t *testing.T) {
	c := &Config{Hubs: []string{"VERT"}, DataDir: t.TempDir(), Host: "bbs.example"}
	date := time.Date(2026, 3, 4, 5, 6, 0, 0, time.Local)
	priv := Message{Private: true, Date: date, To: "BOB", From: "Rob Swindell", Subject: "Hello", Body: "Gr\x81\xe1e",
		Kludges: map[string]string{"VIA": "digdist"}}
	dat := Encode(Header("VERT"), &priv)
	hdrs := appendHeaders(nil, BlockLen, [][2]string{{"Message-ID", "<1.2@vert>"}, {"To", "Bob Smith"}})
	path := filepath.Join(c.DataDir, "VERT.QWK")
	pkt := zipOf(t, map[string][]byte{"MESSAGES.DAT": dat, "HEADERS.DAT": hdrs, "CONTROL.DAT": []byte("x")})
	os.WriteFile(path, pkt, 0o644)
	mb := &memBoxes{keys: map[string]bool{}}
	res, err := c.Scan(context.Background(), mb)
	if err != nil || res.Packets != 1 || res.Imported != 1 || fileExists(path) {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	in := mb.got[0]
	msg := string(in.Message)
	if in.To != "Bob Smith" || in.Route != "VERT/DIGDIST" || in.Key != "qwk VERT <1.2@vert>" {
		t.Errorf("incoming %+v", in)
	}
	for _, want := range []string{"From: \"Rob Swindell\" <VERT/DIGDIST!Rob.Swindell@bbs.example>", "Message-ID: <1.2@vert>", "\r\n\r\nGrüße\r\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	// Again: a duplicate. A packet with public messages stays; garbage is
	// set aside.
	os.WriteFile(path, pkt, 0o644)
	if res, _ := c.Scan(context.Background(), mb); res.Dups != 1 || len(mb.got) != 1 {
		t.Errorf("rescan %+v", res)
	}
	pub := Message{Conf: 2001, Date: date, To: "All", From: "x", Subject: "y", Body: "z"}
	os.WriteFile(path, zipOf(t, map[string][]byte{"MESSAGES.DAT": Encode(dat, &pub)}), 0o644)
	os.WriteFile(filepath.Join(c.DataDir, "VERT.QW1"), []byte("garbage"), 0o644)
	res, _ = c.Scan(context.Background(), mb)
	if res.Left != 1 || res.Bad != 1 || !fileExists(path) || !fileExists(filepath.Join(c.DataDir, "VERT.QW1.bad")) {
		t.Errorf("scan %+v", res)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func FuzzReadPacket(f *testing.F) {
	m := Message{Date: time.Now(), To: "a", From: "b", Subject: "c", Body: "d", Kludges: map[string]string{"VIA": "x"}}
	dat := Encode(Header("X"), &m)
	f.Add(dat, appendHeaders(nil, BlockLen, [][2]string{{"To", "z"}}))
	f.Add([]byte{}, []byte("[zz]\nTo: q\n"))
	f.Fuzz(func(t *testing.T, dat, hdrs []byte) {
		msgs, err := Decode(dat)
		if err == nil {
			for _, m := range msgs {
				if m.Offset%BlockLen != 0 || m.Offset >= len(dat) {
					t.Fatalf("offset %d", m.Offset)
				}
			}
		}
		h := ParseHeaders(hdrs)
		c := &Config{Host: "h"}
		for i := range msgs {
			if in := c.toInternet("X", &msgs[i], h[msgs[i].Offset], time.Unix(0, 0)); in.Key == "" {
				t.Fatal("no key")
			}
		}
	})
}

// TestEncodeCP437Fields: fields in CP437 (not UTF-8) keep their width.
func TestEncodeCP437Fields(t *testing.T) {
	m := Message{Date: time.Now(), To: "\x9aber", From: "\x81\x81", Subject: "\x8e\x99\x9a x", Body: "\x81"}
	b := Encode(Header("X"), &m)
	if len(b) != 3*BlockLen {
		t.Fatalf("%d bytes, want 384", len(b))
	}
	got, err := Decode(b)
	if err != nil || got[0].To != m.To || got[0].Subject != m.Subject {
		t.Errorf("%+v %v", got, err)
	}
}

// TestPacketDir: REPs go to the packet directory as HUBID.rep (created
// when missing), a REP there under another case is added to, and QWK
// packets are read from the packet directory and from data/.
func TestPacketDir(t *testing.T) {
	data := t.TempDir()
	c := &Config{Hubs: []string{"vert"}, DataDir: data, PacketDir: filepath.Join(data, "qnet"), Host: "bbs.example"}
	sp := &memSpool{packed: map[uint64]ftn.Mark{}, pending: map[uint64]Outgoing{1: outgoing(1, "Sysop", "VERT", "one")}}
	if n, err := c.Export(sp); err != nil || n != 1 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	rep := filepath.Join(data, "qnet", "VERT.rep")
	if !fileExists(rep) || c.REPPath("vert") != rep {
		t.Fatalf("REP at %s, want %s", c.REPPath("vert"), rep)
	}
	upper := filepath.Join(data, "qnet", "VERT.REP")
	if err := os.Rename(rep, upper); err != nil {
		t.Fatal(err)
	}
	sp.pending[2] = outgoing(2, "Sysop", "VERT", "two")
	if n, err := c.Export(sp); err != nil || n != 1 || fileExists(rep) {
		t.Fatalf("second Export = %d, %v; %s exists: %v", n, err, rep, fileExists(rep))
	}
	b, _ := os.ReadFile(upper)
	m, _ := files(b)
	if msgs, _ := Decode(m["VERT.MSG"]); len(msgs) != 2 {
		t.Errorf("VERT.REP holds %d messages", len(msgs))
	}

	date := time.Date(2026, 3, 4, 5, 6, 0, 0, time.Local)
	for i, path := range []string{filepath.Join(data, "qnet", "VERT.qwk"), filepath.Join(data, "VERT.QWK")} {
		priv := Message{Private: true, Date: date, To: "BOB", From: "Rob", Subject: fmt.Sprint("s", i), Body: "x"}
		os.WriteFile(path, zipOf(t, map[string][]byte{"MESSAGES.DAT": Encode(Header("VERT"), &priv)}), 0o644)
	}
	mb := &memBoxes{keys: map[string]bool{}}
	if res, err := c.Scan(context.Background(), mb); err != nil || res.Packets != 2 || res.Imported != 2 {
		t.Errorf("Scan = %+v, %v", res, err)
	}
}

package ftn

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func mustAddr(t testing.TB, s string) Addr {
	t.Helper()
	a, err := ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"1:2/3", "1:2/3", true},
		{"1:2/3.4", "1:2/3.4", true},
		{"2:292/854.0@fidonet", "2:292/854", true},
		{" 21:1/100 ", "21:1/100", true},
		{"0:1/2", "", false},
		{"1:2", "", false},
		{"1/2", "", false},
		{"1:2/x", "", false},
		{"1:2/65535", "", false},
		{"1:70000/1", "", false},
	} {
		a, err := ParseAddr(tc.in)
		if (err == nil) != tc.ok || (tc.ok && a.String() != tc.want) {
			t.Errorf("ParseAddr(%q) = %v, %v; want %q ok=%v", tc.in, a, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		addr, pat string
		match     bool
	}{
		{"1:2/3", "1:2/3", true},
		{"1:2/3", "1:ALL", true},
		{"1:2/3.5", "1:2/ALL", true},
		{"1:2/3", "ALL", true},
		{"2:2/3", "1:ALL", false},
		{"1:2/3.1", "1:2/3", false},
	} {
		if got := mustAddr(t, tc.addr).Match(mustAddr(t, tc.pat)); got != tc.match {
			t.Errorf("%s matches %s = %v, want %v", tc.addr, tc.pat, got, tc.match)
		}
	}
	if d := mustAddr(t, "1:2/3.4").Domain(); d != "p4.f3.n2.z1.fidonet" {
		t.Errorf("Domain = %s", d)
	}
}

func TestCharsets(t *testing.T) {
	s := "Grüße, ½ ░ café €"
	for _, tc := range []struct {
		cs   Charset
		want string
	}{
		{CP437, "Grüße, ½ ░ café ?"},
		{Latin1, "Grüße, ½ ? café ?"},
		{UTF8, s},
		{ASCII, "Gr??e, ? ? caf? ?"},
	} {
		enc := tc.cs.Encode(s)
		if got := tc.cs.Decode(enc); got != tc.want {
			t.Errorf("%v round trip = %q, want %q", tc.cs.Kludge(), got, tc.want)
		}
	}
	if b := CP437.Encode("ü░"); !bytes.Equal(b, []byte{0x81, 0xB0}) {
		t.Errorf("CP437 ü░ = % x", b)
	}
}

func samplePacket(t testing.TB) (Header, []Message) {
	h := Header{Orig: mustAddr(t, "1:2/3"), Dest: mustAddr(t, "1:2/1"), Password: "secret",
		Created: time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local), ProductCode: 0x1FE, RevMajor: 1, RevMinor: 2, Plus: true}
	text := BuildText([]Kludge{{"INTL", "2:5/6 1:2/3"}, {"TOPT", "7"}, {"MSGID", "1:2/3 12345678"}, {"CHRS", "CP437 2"}},
		"Hello ü\nsecond line", CP437)
	return h, []Message{
		{Orig: Addr{Net: 2, Node: 3}, Dest: Addr{Net: 5, Node: 6}, Attr: AttrPrivate, Date: "04 Mar 26  05:06:07",
			To: "Bob Smith", From: "Alice", Subject: "Hi", Text: text},
		{Orig: Addr{Net: 2, Node: 3}, Dest: Addr{Net: 2, Node: 1}, Date: "04 Mar 26  05:06:08",
			To: "All", From: "Alice", Subject: "echo", Text: []byte("AREA:TEST\rbody\r")},
	}
}

func TestPacketRoundTrip(t *testing.T) {
	h, msgs := samplePacket(t)
	b := Encode(h, msgs)
	p, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Header
	if got.Orig != h.Orig || got.Dest != h.Dest || got.Password != "SECRET" || !got.Plus ||
		got.ProductCode != h.ProductCode || got.RevMinor != 2 || !got.Created.Equal(h.Created) {
		t.Errorf("header = %+v, want %+v", got, h)
	}
	if len(p.Messages) != 2 {
		t.Fatalf("%d messages", len(p.Messages))
	}
	m := p.Messages[0]
	if m.Dest != mustAddr(t, "2:5/6.7") || m.Orig != mustAddr(t, "1:2/3") {
		t.Errorf("addresses %v -> %v, want 1:2/3 -> 2:5/6.7 (INTL, TOPT)", m.Orig, m.Dest)
	}
	if m.To != "Bob Smith" || m.Subject != "Hi" || m.Echomail() || !p.Messages[1].Echomail() {
		t.Errorf("message = %+v", m)
	}
	txt := ParseText(m.Text, ASCII)
	if txt.Body != "Hello ü\nsecond line" || txt.Charset != CP437 {
		t.Errorf("body %q charset %v", txt.Body, txt.Charset)
	}
	if v, _ := txt.Kludge("MSGID"); v != "1:2/3 12345678" {
		t.Errorf("MSGID %q", v)
	}
}

// TestStoneAgeHeader reads a plain Type-2 header without the capability
// word: zones from the FSC-0045 fields, no points.
func TestStoneAgeHeader(t *testing.T) {
	h, _ := samplePacket(t)
	b := EncodeHeader(h)
	b[44], b[45], b[40], b[41] = 0, 0, 0, 0
	b[50] = 9
	got, err := DecodeHeader(b)
	if err != nil || got.Plus || got.Orig != mustAddr(t, "1:2/3") {
		t.Errorf("%+v %v", got, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	h, msgs := samplePacket(t)
	good := Encode(h, msgs)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"short header":  good[:40],
		"no terminator": good[:len(good)-2],
		"cut message":   good[:headerLen+20],
		"wrong type":    append(append([]byte{}, good[:18]...), append([]byte{3, 0}, good[20:]...)...),
		"bad msg type":  append(append([]byte{}, good[:headerLen]...), 7, 0, 0, 0),
		"no nul": append(append(append([]byte{}, good[:headerLen]...), 2, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0),
			bytes.Repeat([]byte("x"), 200)...),
	} {
		if _, err := Decode(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"04 Mar 26  05:06:07", "4 Mar 26 05:06:07", "Wed 4 Mar 26 05:06"} {
		d, ok := ParseDate(s, time.UTC)
		if !ok || d.Year() != 2026 || d.Month() != 3 || d.Day() != 4 || d.Hour() != 5 {
			t.Errorf("ParseDate(%q) = %v %v", s, d, ok)
		}
	}
	if _, ok := ParseDate("yesterday", time.UTC); ok {
		t.Error("ParseDate accepted garbage")
	}
}

func FuzzDecode(f *testing.F) {
	h, msgs := samplePacket(f)
	f.Add(Encode(h, msgs))
	f.Add(Encode(h, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		for i := range p.Messages {
			m := &p.Messages[i]
			if len(m.To) > MaxName+1 || len(m.From) > MaxName+1 || len(m.Subject) > MaxSubject+1 || len(m.Text) > MaxText {
				t.Fatalf("field over its limit: %+v", m)
			}
			in := ToInternet(m, "bbs.example", time.Unix(0, 0))
			if len(in.Message) == 0 || in.Key == "" {
				t.Fatal("empty conversion")
			}
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := Decode(Encode(p.Header, p.Messages))
		if err != nil || len(again.Messages) != len(p.Messages) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

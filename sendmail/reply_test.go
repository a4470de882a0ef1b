package sendmail

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func TestReadReply(t *testing.T) {
	cases := []struct {
		in      string
		code    int
		text    string
		enh     string
		wantErr bool
	}{
		{"250 OK\r\n", 250, "250 OK", "", false},
		{"550 5.1.1 No such user\r\n", 550, "550 5.1.1 No such user", "5.1.1", false},
		{"250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "250 mx.test; PIPELINING; SIZE 100", "", false},
		{"354\r\n", 354, "354 ", "", false},
		{"250-a\r\n251 b\r\n", 0, "", "", true},
		{"25 short\r\n", 0, "", "", true},
		{"abc nope\r\n", 0, "", "", true},
		{"250xno separator\r\n", 0, "", "", true},
		{"999 out of range\r\n", 0, "", "", true},
		{"250-unterminated\r\n", 0, "", "", true},
	}
	for _, c := range cases {
		r, err := readReply(textproto.NewReader(bufio.NewReader(strings.NewReader(c.in))))
		if c.wantErr {
			if err == nil {
				t.Errorf("%q: got %v, want error", c.in, r)
			}
			continue
		}
		if err != nil || r.Code != c.code || r.String() != c.text || r.Enhanced() != c.enh {
			t.Errorf("%q: got %d %q %q %v", c.in, r.Code, r.String(), r.Enhanced(), err)
		}
	}
}

func TestParseEHLO(t *testing.T) {
	ext := parseEHLO(reply{Code: 250, Lines: []string{"mx.test hello", "pipelining", "SIZE 1000", "STARTTLS", "AUTH PLAIN LOGIN"}})
	for k, v := range map[string]string{"PIPELINING": "", "SIZE": "1000", "STARTTLS": "", "AUTH": "PLAIN LOGIN"} {
		if got, ok := ext[k]; !ok || got != v {
			t.Errorf("%s = %q,%v; want %q", k, got, ok, v)
		}
	}
	if _, ok := ext["MX.TEST"]; ok {
		t.Error("greeting line taken as an extension")
	}
}

func FuzzReadReply(f *testing.F) {
	f.Add("250-mx\r\n250 OK\r\n")
	f.Add("550 5.1.1 x\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := readReply(textproto.NewReader(bufio.NewReader(strings.NewReader(s))))
		if err == nil && (r.Code < 200 || r.Code > 599 || len(r.Lines) == 0) {
			t.Fatalf("accepted %q as %+v", s, r)
		}
		_ = r.Enhanced()
	})
}

// Dot-stuffing: a line starting with "." gets another; line ends become
// CRLF; the data always ends with CRLF "." CRLF.
func TestWriteData(t *testing.T) {
	cases := map[string]string{
		"a\r\nb\r\n":         "a\r\nb\r\n.\r\n",
		".\r\n..x\r\n":       "..\r\n...x\r\n.\r\n",
		"no end":             "no end\r\n.\r\n",
		"bare\nlf\n":         "bare\r\nlf\r\n.\r\n",
		"":                   ".\r\n",
		"x\r\n.\r\n":         "x\r\n..\r\n.\r\n",
		"cr\rinside\r\n":     "cr\r\ninside\r\n.\r\n",
		"crcr\r\r\n.\r":      "crcr\r\n..\r\n.\r\n",
		"a\r\rb":             "a\r\n\r\nb\r\n.\r\n",
		"\r\n\r\nbody\r\n":   "\r\n\r\nbody\r\n.\r\n",
		".leading and more.": "..leading and more.\r\n.\r\n",
	}
	for in, want := range cases {
		var b bytes.Buffer
		if err := writeData(bufio.NewWriter(&b), []byte(in)); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("writeData(%q) = %q, want %q", in, b.String(), want)
		}
	}
}

func TestDestination(t *testing.T) {
	cases := []struct{ rcpt, path, domain string }{
		{"joe@Example.ORG", "joe@Example.ORG", "example.org"},
		{"joe@mail.example.org:2525", "joe@mail.example.org", "mail.example.org:2525"},
		{"joe@[192.0.2.1]", "joe@[192.0.2.1]", "[192.0.2.1]"},
		{"a@b@host.test", "a@b@host.test", "host.test"},
		{"joe", "", ""},
		{"@host.test", "", ""},
		{"sysop@f1.n2.z3.fidonet", "", ""},
	}
	for _, c := range cases {
		path, dom, err := destination(c.rcpt)
		if (err != nil) != (c.path == "") || path != c.path || dom != c.domain {
			t.Errorf("destination(%q) = %q, %q, %v", c.rcpt, path, dom, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 3 * time.Hour}
	for i, w := range want {
		if got := Backoff(i+1, 3*time.Hour); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	// The sysop's RescanFrequency caps every step.
	for i := range 7 {
		if got := Backoff(i+1, 2*time.Second); got != 2*time.Second {
			t.Errorf("Backoff(%d, 2s) = %v, want 2s", i+1, got)
		}
	}
	if got := Backoff(3, 10*time.Minute); got != 10*time.Minute {
		t.Errorf("Backoff(3, 10m) = %v, want 10m", got)
	}
}

func TestAuthClients(t *testing.T) {
	l := &loginClient{user: "bbs", pass: "pw"}
	if mech, ir, _ := l.Start(); mech != "LOGIN" || ir != nil {
		t.Fatalf("LOGIN start = %q %q", mech, ir)
	}
	for _, step := range []struct{ challenge, want string }{{"Username:", "bbs"}, {"password", "pw"}} {
		if got, err := l.Next([]byte(step.challenge)); err != nil || string(got) != step.want {
			t.Errorf("LOGIN %q -> %q %v", step.challenge, got, err)
		}
	}
	// RFC 2195's example.
	c := &cramMD5Client{user: "tim", pass: "tanstaaftanstaaf"}
	got, _ := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if string(got) != "tim b913a602c7eda7a495b4e6e7334d3890" {
		t.Errorf("CRAM-MD5 = %q", got)
	}
}

func TestExemptListed(t *testing.T) {
	data := []byte("; <joe@x.test>\n*.synchro.net\n<Rob@Synchro.net>\nann@y.test\tt=2026\n")
	for addr, want := range map[string]bool{"rob@synchro.net": true, "ann@y.test": true, "joe@x.test": false, "synchro.net": false} {
		if got := exemptListed(data, addr); got != want {
			t.Errorf("exemptListed(%q) = %v", addr, got)
		}
	}
}

package smtpd

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// DNSBL_CHKRECVHDRS reads the sending host from the usual Received
// layouts of Postfix, Exim, Sendmail, Synchronet and bbsmail itself, and
// never mistakes the receiving server's address for the sender's.
func TestReceivedSource(t *testing.T) {
	for _, tc := range []struct {
		name, v, host, ip string
	}{
		{"postfix", " from mx.spam.example (mx.spam.example [192.0.2.7]) by mail.example (Postfix) with ESMTP id 1; date",
			"mx.spam.example", "192.0.2.7"},
		{"upper case", " FROM MX.Spam.Example (HELO [192.0.2.7]) BY x", "mx.spam.example", "192.0.2.7"},
		{"exim literal", " from [192.0.2.8] (helo=foo) by mx.example with esmtp", "", "192.0.2.8"},
		{"ipv6 literal", " from h (h [IPv6:2001:db8::7]) by x", "h", "2001:db8::7"},
		{"ipv4-mapped", " from h (h [IPv6:::ffff:192.0.2.9]) by x", "h", "192.0.2.9"},
		{"no address in the from-clause", " from localhost by mx.example [198.51.100.1] with smtp", "localhost", ""},
		{"no from-clause", " by mx.example [198.51.100.1] (envelope-from <a@b>); date", "", ""},
		{"envelope-from is not from", " (envelope-from <x@y>) [192.0.2.1]", "", ""},
		{"not an address", " from h (h [unknown]) by x", "h", ""},
		{"zone", " from h (h [fe80::1%eth0]) by x", "h", ""},
		{"unclosed bracket", " from h (h [192.0.2.1", "h", ""},
		// A client may say HELO with any address literal; the receiving
		// server writes the address it saw last, in the comment. Taking
		// the first literal would look up the one the client chose.
		{"postfix, HELO literal", " from [198.51.100.9] (unknown [192.0.2.7]) by mail.example (Postfix)", "", "192.0.2.7"},
		{"sendmail, HELO literal", " from [198.51.100.9] (host.example [192.0.2.7]) (may be forged) by x", "", "192.0.2.7"},
		{"bbsmail, HELO literal", " from mx.example ([198.51.100.9] [192.0.2.7]) by bbs.example", "mx.example", "192.0.2.7"},
		{"exim, HELO literal", " from host.example ([192.0.2.7] helo=[198.51.100.9]) by x", "host.example", "192.0.2.7"},
		{"exim literal, HELO literal", " from [192.0.2.8] (helo=[198.51.100.9]) by mx.example", "", "192.0.2.8"},
		{"last literal not an address", " from [198.51.100.9] (unknown [unknown]) by x", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, ip := receivedSource(tc.v)
			if host != tc.host || ip != tc.ip {
				t.Errorf("receivedSource(%q) = %q, %q; want %q, %q", tc.v, host, ip, tc.host, tc.ip)
			}
		})
	}
}

func TestPublicAddr(t *testing.T) {
	for ip, want := range map[string]bool{
		"192.0.2.7": true, "2001:db8::1": true, "203.0.113.5": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false, "::1": false,
		"169.254.1.1": false, "fe80::1": false, "fc00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"224.0.0.1": false, "not an ip": false,
	} {
		if got := publicAddr(ip); got != want {
			t.Errorf("publicAddr(%q) = %v, want %v", ip, got, want)
		}
	}
}

// The spam hash database sees the body only: what follows the blank line
// that ends the header, or the first line that is not a header field.
func TestMessageBody(t *testing.T) {
	for _, tc := range []struct{ name, msg, body string }{
		{"usual", "From: a\r\nSubject: s\r\n\r\nhello\r\n", "hello\r\n"},
		{"folded header", "Subject: s\r\n t\r\n\r\nhello\r\n", "hello\r\n"},
		{"bare LF", "From: a\n\nhello\n", "hello\n"},
		{"no blank line", "From: a\r\nhello there\r\n", "hello there\r\n"},
		{"header only", "From: a\r\nSubject: s\r\n", ""},
		{"no header", "hello\r\n", "hello\r\n"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(messageBody([]byte(tc.msg))); got != tc.body {
				t.Errorf("messageBody(%q) = %q, want %q", tc.msg, got, tc.body)
			}
		})
	}
}

func TestRcptAddr(t *testing.T) {
	for in, want := range map[string]string{
		"bait@bbs.example":               "bait@bbs.example",
		"Forward:bait@bbs.example":       "bait@bbs.example",
		"LOCAL:bait@bbs.example":         "bait@bbs.example",
		"forward:local:bait@bbs.example": "bait@bbs.example",
		"local:forward:bait@bbs.example": "forward:bait@bbs.example",
	} {
		if got := rcptAddr(in); got != want {
			t.Errorf("rcptAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// Automatic spamblock.cfg entries: one goes in unless an entry in force
// already matches the client; expired entries for the client are removed
// first and everything else (comments, other clients, entries that never
// expire, the sysop's line endings) stays as it was.
func TestAddBlock(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.Local)
	const ip = "192.0.2.7"
	const line = "192.0.2.7\tt=20261122T120000+0000\tp=SMTP\tr=SPAM BAIT (bait@bbs.example) taken"
	for _, tc := range []struct {
		name, before, after string
		added               bool
	}{
		{"no file", "", line + "\n", true},
		{"another client", "; blocked\n198.51.100.1\n", "; blocked\n198.51.100.1\n" + line + "\n", true},
		{"already blocked", "192.0.2.7\tr=earlier\n", "192.0.2.7\tr=earlier\n", false},
		{"blocked by a network", "192.0.2.0/24\n", "192.0.2.0/24\n", false},
		{"blocked until later", "192.0.2.7\te=20261123T000000\n", "192.0.2.7\te=20261123T000000\n", false},
		{"expired entries pruned",
			"; header\r\n!192.0.2.8\r\n198.51.100.2\r\n192.0.2.7\te=20261101T000000\r\n198.51.100.1\te=20261101T000000\r\n192.0.2.0/24\te=20261102T000000\r\n",
			"; header\r\n!192.0.2.8\r\n198.51.100.2\r\n198.51.100.1\te=20261101T000000\r\n" + line + "\n", true},
		{"last line open", "198.51.100.1", "198.51.100.1\n" + line + "\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spamblock.cfg")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			added, err := addBlock(path, ip, line, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if added != tc.added || string(got) != tc.after {
				t.Errorf("added=%v, file:\n%q\nwant added=%v, file:\n%q", added, got, tc.added, tc.after)
			}
			if fi, err := os.Stat(path); err == nil && tc.before != "" && fi.Mode().Perm() != 0o600 {
				t.Errorf("the rewrite changed the file mode to %v", fi.Mode().Perm())
			}
			entries, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".spamblock.cfg.*"))
			if len(entries) != 0 {
				t.Errorf("temporary files left: %v", entries)
			}
		})
	}
}

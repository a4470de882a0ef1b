package smtpd

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestScanHeader(t *testing.T) {
	cases := []struct {
		name, in, out string
		info          headerInfo
	}{
		{"plain", "From: a@b\r\nSubject: s\r\n\r\nbody\r\n", "", headerInfo{hasFrom: true, from: "a@b", subject: "s"}},
		{"return-path removed with its continuation",
			"Return-Path: <x@y>\r\n (comment)\r\nFrom: A <a@b>\r\n\r\nReturn-Path: in body stays\r\n",
			"From: A <a@b>\r\n\r\nReturn-Path: in body stays\r\n", headerInfo{hasFrom: true, from: "a@b", fromName: "A"}},
		{"return-path in the middle", "From: a@b\r\nreturn-path:<x>\r\nTo: c\r\n\r\n", "From: a@b\r\nTo: c\r\n\r\n", headerInfo{hasFrom: true, from: "a@b", to: []string{"c"}}},
		{"spam flag", "X-Spam-Flag: YES\r\n\r\n", "", headerInfo{spam: true}},
		{"spam flag no", "X-Spam-Flag: NO\r\nFrom: x\r\n\r\n", "", headerInfo{hasFrom: true, from: "x"}},
		{"no header at all", "just text\r\nFrom: later\r\n", "", headerInfo{}},
		{"from in the body only", "Subject: s\r\n\r\nFrom: a@b\r\n", "", headerInfo{subject: "s"}},
		{"header without body", "From: a@b\r\n", "", headerInfo{hasFrom: true, from: "a@b"}},
		// The filter lists see unfolded, decoded values.
		{"folded from", "From: \"Joe\r\n Sixpack\"\r\n\t<joe@x>\r\n\r\n", "", headerInfo{hasFrom: true, from: "joe@x", fromName: "Joe Sixpack"}},
		{"encoded from name", "From: =?UTF-8?Q?J=C3=B6rg?= <j@x>\r\n\r\n", "", headerInfo{hasFrom: true, from: "j@x", fromName: "Jörg"}},
		{"folded subject", "Subject: cheap\r\n  pills\r\nTo: y\r\n\r\n", "", headerInfo{subject: "cheap  pills", to: []string{"y"}}},
		{"encoded subject", "Subject: =?utf-8?b?Q2hlYXAgcGlsbHM=?=\r\n\r\n", "", headerInfo{subject: "Cheap pills"}},
		{"unknown charset stays encoded", "Subject: =?x-klingon?q?qapla?=\r\n\r\n", "", headerInfo{subject: "=?x-klingon?q?qapla?="}},
		{"control characters dropped", "Subject: a\x1b[2Jb\r\n\r\n", "", headerInfo{subject: "a[2Jb"}},
		// email.can sees every To name and address.
		{"to list", "To: Joe <joe@x>, =?UTF-8?Q?J=C3=B6rg?= <j@y>,\r\n plain@z\r\n\r\n", "",
			headerInfo{to: []string{"Joe", "joe@x", "Jörg", "j@y", "plain@z"}}},
		{"to unparsable", "To: undisclosed-recipients:;x\r\n\r\n", "", headerInfo{to: []string{"undisclosed-recipients:;x"}}},
		// DNSBL_CHKRECVHDRS sees the Received fields unfolded, newest first.
		{"received", "Received: from a ([192.0.2.1])\r\n by b; date\r\nReceived: from c\r\n\r\n", "",
			headerInfo{received: 2, receivedFields: []string{" from a ([192.0.2.1]) by b; date", " from c"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			out, info := scanHeader(in)
			if len(out) > 0 && &out[len(out)-1] != &in[len(in)-1] {
				t.Fatal("the message was copied: a removed field must be cut out in place")
			}
			info.fromFields, info.senderFields = nil, nil // TestScanHeaderSenders
			want := c.out
			if want == "" {
				want = c.in
			}
			if string(out) != want || !reflect.DeepEqual(info, c.info) {
				t.Fatalf("got %q %+v, want %q %+v", out, info, want, c.info)
			}
		})
	}
}

// The Received header layout is compared with golden files; a mismatch
// writes the .got file next to the .want one.
func TestTraceBlockGolden(t *testing.T) {
	date := time.Date(2026, 11, 22, 14, 5, 9, 0, time.FixedZone("", -5*3600))
	cases := map[string]traceInfo{
		"esmtp-ipv4": {reversePath: "joe@remote.example", clientHost: "mx.remote.example", helo: "mx.remote.example",
			clientIP: "192.0.2.7", serverHost: "bbs.example", serverIP: "198.51.100.1", version: "1.0",
			proto: "ESMTPS", forwardPath: "<sysop@bbs.example>", date: date},
		"ipv6-forwarded": {reversePath: "", clientHost: "<no name>", helo: "[IPv6:2001:db8::7]",
			clientIP: "2001:db8::7", serverHost: "bbs.example", serverIP: "2001:db8::1", version: "1.0",
			proto: "SMTP", forwardPath: "", date: date},
	}
	for name, ti := range cases {
		got := traceBlock(ti)
		golden := filepath.Join("testdata", "received", name+".want")
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			gotFile := filepath.Join("testdata", "received", name+".got")
			_ = os.WriteFile(gotFile, got, 0o644)
			t.Errorf("%s: trace differs from %s (wrote %s):\n%s", name, golden, gotFile, got)
		}
	}
}

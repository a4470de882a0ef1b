package test

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"
)

// outboundRawData submits one message as Alice on the submission port over
// a raw socket, text exactly as given (smtplib would mend its line ends),
// and returns the reply to the final dot.
func (b *bbs) outboundRawData(text string) string {
	b.t.Helper()
	c := dial(b.t, b.addr(b.ports.Submission))
	c.expect("220 ")
	c.send("EHLO client.test")
	c.expect("250 ")
	c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00"+outboundPW)))
	c.expect("235 ")
	c.send("MAIL FROM:<alice@bbs.test>")
	c.expect("250 ")
	c.send("RCPT TO:<user@remote.test>")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	if _, err := io.WriteString(c.c, text+"\r\n.\r\n"); err != nil {
		b.t.Fatal(err)
	}
	return c.reply()
}

// Bare CRs and LFs in submitted text reach the next hop as CR LF line
// ends, never as a line end it could read differently from us; a lone dot
// beside a bare CR (the SMTP smuggling pattern) is refused instead of being
// relayed under our name; and the next hop gets no Return-Path from us
// (RFC 5321 §4.4), not even one the client wrote.
func TestOutboundBareLineEndsAndReturnPath(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	b, _ := outboundRunning(t, peer.port)

	const head = "From: <alice@bbs.test>\r\nTo: <user@remote.test>\r\n"
	if r := b.outboundRawData(head + "Subject: smuggle\r\n\r\nhello\r.\r\nMAIL FROM:<ceo@bbs.test>\r\nRCPT TO:<user@remote.test>\r\nDATA\r\nSubject: smuggled"); !strings.HasPrefix(r, "554 5.6.0 ") {
		t.Fatalf("a lone dot between bare CRs: %q, want 554 5.6.0", r)
	}
	if r := b.outboundRawData(head + "Return-Path: <forged@elsewhere.test>\r\nSubject: bare\r\n\r\none\rtwo\nthree\r\r\n..four"); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("final dot: %q, want 250", r)
	}
	var msgs []outboundMsg
	if !routingPoll(30*time.Second, func() bool { msgs = peer.messages(); return len(msgs) > 0 }) {
		t.Fatal("nothing arrived at the peer")
	}
	b.outboundQueueEmpty("the delivery")
	if len(peer.messages()) != 1 {
		t.Fatalf("the peer received %d messages, want 1", len(peer.messages()))
	}
	header, body, ok := bytes.Cut(msgs[0].data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header/body separator in:\n%q", msgs[0].data)
	}
	if want := "one\r\ntwo\r\nthree\r\n.four\r\n"; string(body) != want {
		t.Errorf("body at the next hop %q, want %q", body, want)
	}
	if bytes.Contains(bytes.ToLower(header), []byte("return-path")) {
		t.Errorf("the next hop got a Return-Path:\n%s", header)
	}
	if !bytes.Contains(header, []byte("Subject: bare")) || !bytes.Contains(header, []byte("Received: ")) {
		t.Errorf("header lost fields:\n%s", header)
	}
}

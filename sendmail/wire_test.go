package sendmail_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/sendmail"
)

// rawPeer is an SMTP server written against the socket, so that a test
// sees the octets SendMail sends between 354 and the final dot exactly,
// with nothing parsed or normalised on the way.
type rawPeer struct {
	addr string
	mu   sync.Mutex
	data [][]byte // each message's DATA octets, the final CRLF.CRLF excluded
}

func startRawPeer(t *testing.T) *rawPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &rawPeer{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *rawPeer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	say("220 raw.test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 raw.test")
		case cmd == "DATA":
			say("354 go ahead")
			var data []byte
			for !bytes.HasSuffix(data, []byte("\r\n.\r\n")) && !bytes.Equal(data, []byte(".\r\n")) {
				b, err := r.ReadByte()
				if err != nil {
					return
				}
				data = append(data, b)
			}
			p.mu.Lock()
			p.data = append(p.data, data[:max(0, len(data)-5)])
			p.mu.Unlock()
			say("250 taken")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (p *rawPeer) messages() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.data
}

// A stored message goes out with CR LF line ends only and every line
// that starts with a dot stuffed, whatever line ends the stored text has
// (messages stored by older versions may hold bare CRs and LFs), and
// without the Return-Path field, which belongs to the final delivery
// alone (RFC 5321 §4.4). A next hop that ends the data on <CR>.<CR> or
// <LF>.<LF> finds nothing to end it early.
func TestDataOnTheWire(t *testing.T) {
	t.Parallel()
	p := startRawPeer(t)
	d := startDNS(t, "mail.zone")
	e := newEnv(t)
	e.cfg.DNSServer = d.Addr
	_, port, _ := net.SplitHostPort(p.addr)
	e.cfg.MXPort = atoi(t, port)
	stored := "Return-Path: <sysop@bbs.example.org>\r\n" +
		"Received: from client (client [192.0.2.1])\r\n" +
		"          by bbs.example.org; Mon, 7 Dec 2026 01:00:00 +0000\r\n" +
		"return-path:\r\n <forged@evil.example>\r\n" +
		"From: Sysop <sysop@bbs.example.org>\r\n" +
		"Subject: dots\r\r\n" +
		"\r\n" +
		".leading dot\r\n" +
		"bare cr\r.\r\n" +
		"MAIL FROM:<ceo@bbs.example.org>\r.\rbare lf\n.\n" +
		"Return-Path: <in the body stays>\r\n" +
		"last line without an end"
	want := "Received: from client (client [192.0.2.1])\r\n" +
		"          by bbs.example.org; Mon, 7 Dec 2026 01:00:00 +0000\r\n" +
		"From: Sysop <sysop@bbs.example.org>\r\n" +
		"Subject: dots\r\n" +
		"\r\n" +
		"..leading dot\r\n" +
		"bare cr\r\n..\r\n" +
		"MAIL FROM:<ceo@bbs.example.org>\r\n..\r\nbare lf\r\n..\r\n" +
		"Return-Path: <in the body stays>\r\n" +
		"last line without an end"
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, stored)
	e.runOnce(t)
	if !e.q.delivered(id) {
		ent, _ := e.q.get(id)
		t.Fatalf("not delivered: %+v", ent)
	}
	msgs := p.messages()
	if len(msgs) != 1 {
		t.Fatalf("the peer got %d messages, want 1", len(msgs))
	}
	if got := string(msgs[0]); got != want {
		t.Fatalf("on the wire:\n%q\nwant:\n%q", got, want)
	}
}

package smtpd_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/bbsmail/bbsmail/smtpd"
)

// writeCounter is a listener whose connections count the server's writes.
type writeCounter struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, writes: &l.writes}, nil
}

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// Replies are written when the server is about to wait for the client, not
// line by line (RFC 2920 §3): the replies to a pipelined group go out in
// one write once the server has no further command line to act on, and
// they do go out before it blocks reading (the client here sends nothing
// more until it has all four replies, so a server that held them back
// would never get the message text). A lock-step client gets each reply
// at once, one write per reply, the multi-line EHLO reply included.
func TestRepliesFlushedOncePerGroupBeforeBlocking(t *testing.T) {
	t.Parallel()
	var wc *writeCounter
	ts := startServerOn(t, func(l net.Listener) net.Listener {
		wc = &writeCounter{Listener: l}
		return wc
	}, smtpd.MTA, nil)
	c := ts.dial(t)
	c.expect("220 ")
	if n := wc.writes.Load(); n != 1 {
		t.Fatalf("the greeting took %d writes, want 1", n)
	}
	c.cmd("EHLO client.example", "250 ")
	if n := wc.writes.Load(); n != 2 {
		t.Fatalf("greeting and EHLO reply took %d writes, want 2", n)
	}

	c.send("MAIL FROM:<joe@remote.example>\r\nRCPT TO:<sysop@bbs.example>\r\nRCPT TO:<nobody@bbs.example>\r\nDATA\r\n")
	c.expect("250 2.1.0")
	c.expect("250 2.1.5")
	c.expect("550 5.1.1")
	c.expect("354 ")
	if n := wc.writes.Load(); n != 3 {
		t.Errorf("the four replies to a pipelined group took %d writes, want 1", n-2)
	}

	c.send("From: joe@remote.example\r\nSubject: pipelined\r\n\r\ntext\r\n.\r\nQUIT\r\n")
	c.expect("250 2.0.0")
	c.expect("221 ")
	c.expectClosed()
	if got := ts.drop.count(); got != 1 {
		t.Errorf("%d deliveries, want 1", got)
	}
}

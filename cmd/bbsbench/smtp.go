package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// opTimeout bounds every exchange with a server, so a stuck server ends a
// run with an error instead of hanging it.
const opTimeout = 30 * time.Second

// smtpConn is a deliberately small SMTP client: one command, one reply, no
// pipelining, like the MTAs that send most mail to a BBS. It is ours rather
// than net/smtp so that the time it measures is the server's and the wire
// traffic is exactly what a load test needs.
type smtpConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// replyError is a reply with an unexpected code.
type replyError struct {
	cmd   string
	code  int
	reply string
}

func (e *replyError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.cmd, e.code, e.reply)
}

// dialSMTP connects and reads the 220 greeting.
func dialSMTP(ctx context.Context, addr string) (*smtpConn, error) {
	d := net.Dialer{Timeout: opTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	sc := &smtpConn{c: c, r: bufio.NewReaderSize(c, 4096), w: bufio.NewWriterSize(c, 8192)}
	if err := sc.expect("greeting", 220); err != nil {
		c.Close()
		return nil, err
	}
	return sc, nil
}

func (s *smtpConn) close() error { return s.c.Close() }

// readReply reads one reply, multi-line or not, and returns its code and
// the text of its last line.
func (s *smtpConn) readReply() (int, string, error) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return 0, "", fmt.Errorf("reading reply: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 {
			return 0, "", fmt.Errorf("malformed reply %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil {
			return 0, "", fmt.Errorf("malformed reply %q", line)
		}
		if len(line) > 3 && line[3] == '-' {
			continue
		}
		return code, strings.TrimSpace(line[3:]), nil
	}
}

// expect reads a reply and fails unless its code is want.
func (s *smtpConn) expect(cmd string, want int) error {
	_ = s.c.SetDeadline(time.Now().Add(opTimeout))
	code, text, err := s.readReply()
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if code != want {
		return &replyError{cmd: cmd, code: code, reply: text}
	}
	return nil
}

// cmd sends one command line and checks the reply code.
func (s *smtpConn) cmd(line string, want int) error {
	_ = s.c.SetDeadline(time.Now().Add(opTimeout))
	s.w.WriteString(line)
	s.w.WriteString("\r\n")
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sending %s: %w", verb(line), err)
	}
	return s.expect(verb(line), want)
}

func verb(line string) string {
	if i := strings.IndexAny(line, " :"); i > 0 {
		return line[:i]
	}
	return line
}

// hello sends EHLO.
func (s *smtpConn) hello(name string) error { return s.cmd("EHLO "+name, 250) }

// authPlain authenticates with AUTH PLAIN (RFC 4616) in the initial
// response; the servers measured allow it on loopback without TLS.
func (s *smtpConn) authPlain(user, pass string) error {
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	return s.cmd("AUTH PLAIN "+ir, 235)
}

// send runs one mail transaction: MAIL, RCPT, DATA, the message and the
// final dot, and waits for the 250 that says the message is accepted.
// header and body must already use CRLF and need no dot-stuffing.
func (s *smtpConn) send(from, to string, header, body []byte) error {
	if err := s.cmd("MAIL FROM:<"+from+">", 250); err != nil {
		return err
	}
	if err := s.cmd("RCPT TO:<"+to+">", 250); err != nil {
		return err
	}
	if err := s.cmd("DATA", 354); err != nil {
		return err
	}
	_ = s.c.SetDeadline(time.Now().Add(opTimeout))
	s.w.Write(header)
	s.w.Write(body)
	s.w.WriteString(".\r\n")
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sending message: %w", err)
	}
	return s.expect("end of data", 250)
}

// quit ends the session politely.
func (s *smtpConn) quit() error { return s.cmd("QUIT", 221) }

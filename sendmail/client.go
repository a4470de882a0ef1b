package sendmail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
)

// errTLS marks a failed STARTTLS handshake: the caller reconnects without
// STARTTLS, because a broken TLS peer must never make mail bounce.
var errTLS = errors.New("TLS handshake failed")

// replyError is an unexpected reply at some step of the dialogue.
type replyError struct {
	Step  string // "greeting", "EHLO", "MAIL FROM", "AUTH" ...
	Reply reply
	// Temp forces the failure to be temporary whatever the code (relay
	// AUTH failures: a wrong password must not bounce the mail).
	Temp bool
}

func (e *replyError) Error() string {
	return fmt.Sprintf("%s: %s", e.Step, e.Reply)
}

// Permanent reports whether the failure should bounce.
func (e *replyError) Permanent() bool { return !e.Temp && e.Reply.Permanent() }

// deadlineConn sets a fresh deadline before every Read and Write, so each
// one has its own IOTimeout rather than the whole dialogue sharing one.
type deadlineConn struct {
	net.Conn
	readTimeout  time.Duration
	writeTimeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.readTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// client is one SMTP connection (RFC 5321 client side). It keeps the
// EHLO extensions and logs the dialogue when asked to.
type client struct {
	raw  net.Conn // the TCP connection, closed last
	dc   *deadlineConn
	r    *textproto.Reader
	w    *bufio.Writer
	host string // remote host name, for messages
	ext  map[string]string
	tls  bool
	// dataSent is set once the current transaction has begun sending the
	// message: a failure after it leaves the outcome unknown.
	dataSent bool

	log     *slog.Logger
	debugTX bool
	debugRX bool
}

func newClient(conn net.Conn, host string, timeout time.Duration, log *slog.Logger, tx, rx bool) *client {
	c := &client{raw: conn, host: host, log: log, debugTX: tx, debugRX: rx}
	c.wrap(conn, timeout)
	return c
}

// writeBuffer is the size of a connection's write buffer: large enough
// that a commonly sized message goes out in one write with its final dot.
const writeBuffer = 32 << 10

// wrap (re)builds the buffered reader and writer over conn, as needed
// after STARTTLS: nothing read before the handshake may be reused.
func (c *client) wrap(conn net.Conn, timeout time.Duration) {
	c.dc = &deadlineConn{Conn: conn, readTimeout: timeout, writeTimeout: timeout}
	c.r = textproto.NewReader(bufio.NewReader(c.dc))
	c.w = bufio.NewWriterSize(c.dc, writeBuffer)
}

func (c *client) close() error { return c.raw.Close() }

// send buffers one command line; flush writes it out.
func (c *client) send(line string) error {
	if c.debugTX {
		c.log.Info("SendMail TX", "host", c.host, "line", redactAuth(line))
	}
	if _, err := c.w.WriteString(line + "\r\n"); err != nil {
		return fmt.Errorf("sending to %s: %w", c.host, err)
	}
	return nil
}

func (c *client) flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("sending to %s: %w", c.host, err)
	}
	return nil
}

func (c *client) read() (reply, error) {
	rep, err := readReply(c.r)
	if err != nil {
		return reply{}, fmt.Errorf("%s: %w", c.host, err)
	}
	if c.debugRX {
		c.log.Info("SendMail RX", "host", c.host, "reply", rep.String())
	}
	return rep, nil
}

// cmd sends one command and reads its reply.
func (c *client) cmd(line string) (reply, error) {
	if err := c.send(line); err != nil {
		return reply{}, err
	}
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

// authCmd is cmd for the lines of an AUTH exchange: answers to the
// server's challenges carry the credentials (LOGIN sends the password as
// plain base64), so DEBUG_TX logs them as "***".
func (c *client) authCmd(line string, secret bool) (reply, error) {
	if !secret {
		return c.cmd(line)
	}
	if c.debugTX {
		c.log.Info("SendMail TX", "host", c.host, "line", "***")
	}
	if _, err := c.w.WriteString(line + "\r\n"); err != nil {
		return reply{}, fmt.Errorf("sending to %s: %w", c.host, err)
	}
	if err := c.flush(); err != nil {
		return reply{}, err
	}
	return c.read()
}

// redactAuth hides credentials in a logged AUTH command.
func redactAuth(line string) string {
	if len(line) > 5 && strings.EqualFold(line[:5], "AUTH ") {
		if mech, _, ok := strings.Cut(line[5:], " "); ok {
			return "AUTH " + mech + " ***"
		}
	}
	return line
}

// greet reads the greeting and introduces us: EHLO, or HELO when EHLO is
// refused (RFC 5321 §4.1.4). Extensions are empty after HELO.
func (c *client) greet(name string) error {
	rep, err := c.read()
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		return &replyError{Step: "greeting", Reply: rep}
	}
	return c.hello(name)
}

func (c *client) hello(name string) error {
	rep, err := c.cmd("EHLO " + name)
	if err != nil {
		return err
	}
	if rep.Code == 250 {
		c.ext = parseEHLO(rep)
		return nil
	}
	if !rep.Permanent() {
		return &replyError{Step: "EHLO", Reply: rep}
	}
	c.ext = map[string]string{}
	rep, err = c.cmd("HELO " + name)
	if err != nil {
		return err
	}
	if rep.Code != 250 {
		return &replyError{Step: "HELO", Reply: rep}
	}
	return nil
}

func (c *client) has(ext string) bool {
	_, ok := c.ext[ext]
	return ok
}

// startTLS upgrades the connection (RFC 3207) and says EHLO again. A
// refusal of the command leaves the session in plain text, which is
// allowed; a failed handshake returns errTLS.
func (c *client) startTLS(cfg *tls.Config, name string, timeout time.Duration) error {
	rep, err := c.cmd("STARTTLS")
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		c.log.Info("SendMail STARTTLS refused, continuing without TLS", "host", c.host, "reply", rep.String())
		return nil
	}
	tc := tls.Client(c.raw, cfg)
	if err := tc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("%s: %w", c.host, err)
	}
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("%s: %w: %w", c.host, errTLS, err)
	}
	if err := tc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("%s: %w", c.host, err)
	}
	c.raw = tc
	c.wrap(tc, timeout)
	c.tls = true
	return c.hello(name)
}

// auth runs a SASL exchange (RFC 4954). Any failure is temporary: a
// relay refusing our credentials is the sysop's problem to fix, not a
// reason to bounce the sender's mail.
func (c *client) auth(sc sasl.Client) error {
	mech, ir, err := sc.Start()
	if err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	line := "AUTH " + mech
	if ir != nil {
		line += " " + encodeSASL(ir)
	}
	secret := false // the first line is logged with redactAuth; answers never
	for {
		rep, err := c.authCmd(line, secret)
		if err != nil {
			return err
		}
		secret = true
		switch rep.Code {
		case 235:
			return nil
		case 334:
		default:
			return &replyError{Step: "AUTH " + mech, Reply: rep, Temp: true}
		}
		text := ""
		if len(rep.Lines) > 0 {
			text = rep.Lines[0]
		}
		challenge, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			_, _ = c.cmd("*")
			return fmt.Errorf("AUTH %s: bad challenge from %s: %w", mech, c.host, err)
		}
		resp, err := sc.Next(challenge)
		if err != nil {
			_, _ = c.cmd("*")
			return fmt.Errorf("AUTH %s: %w", mech, err)
		}
		line = base64.StdEncoding.EncodeToString(resp)
	}
}

func encodeSASL(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// quit ends the session politely; errors do not matter any more.
func (c *client) quit() {
	_, _ = c.cmd("QUIT")
}

// dial connects to addr, bound to the configured outbound interface for
// the address family, within ctx and the connect timeout.
func dial(ctx context.Context, ip net.IP, port int, local4, local6 string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	local := local4
	if ip.To4() == nil {
		local = local6
	}
	if lip := net.ParseIP(local); lip != nil && !lip.IsUnspecified() {
		d.LocalAddr = &net.TCPAddr{IP: lip}
	}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), fmt.Sprint(port)))
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	return conn, nil
}

// writeData copies a stored message into the DATA stream and flushes it.
// Only CR LF ends a line on the wire (RFC 5321 §2.3.8): a bare LF or a
// bare CR in the stored text ends a line too, and CRs just before a line
// end are dropped, so a next hop that ends the data on <LF>.<LF> or
// <CR>.<CR> cannot be made to end it early (SMTP smuggling). A line that
// starts with "." gets another (RFC 5321 §4.5.2), a last line without an
// end of line still gets one before the terminating ".", and the
// Return-Path field of the stored trace stays behind: it is added by the
// final delivery only (RFC 5321 §4.4).
func writeData(bw *bufio.Writer, msg []byte) error {
	h := headerFilter{inHeader: true}
	for len(msg) > 0 {
		line := msg
		msg = nil
		if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
			line, msg = line[:i], line[i:]
			// One line end: CRs, then at most one LF, or a lone CR.
			end := len(msg) - len(bytes.TrimLeft(msg, "\r"))
			if end < len(msg) && msg[end] == '\n' {
				end++
			} else if end > 1 {
				end = 1 // CR CR text: each bare CR ends a line
			}
			msg = msg[end:]
		}
		if !h.keep(line) {
			continue
		}
		if len(line) > 0 && line[0] == '.' {
			if err := bw.WriteByte('.'); err != nil {
				return err
			}
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		if _, err := bw.WriteString("\r\n"); err != nil {
			return err
		}
	}
	if _, err := bw.WriteString(".\r\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// headerFilter follows the header section (RFC 5322 §2.2) line by line
// and drops the Return-Path fields in it, continuation lines included.
type headerFilter struct {
	inHeader, dropping bool
}

func (h *headerFilter) keep(line []byte) bool {
	switch {
	case !h.inHeader:
		return true
	case len(line) == 0:
		h.inHeader = false
		return true
	case line[0] == ' ' || line[0] == '\t':
		return !h.dropping
	}
	name, _, ok := bytes.Cut(line, []byte(":"))
	h.dropping = ok && strings.EqualFold(strings.TrimSpace(string(name)), "Return-Path")
	return !h.dropping
}

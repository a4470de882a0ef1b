package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// Line limits of RFC 5321 §4.5.3.1, terminator included.
const (
	maxCommandLine = 512
	maxTextLine    = 1000
	// maxAuthLine allows the 12288-octet AUTH responses of RFC 4954 §4.
	maxAuthLine = 12288 + 2
)

var errLineTooLong = errors.New("line too long")

// session is one client connection. Everything in it belongs to the
// session goroutine.
type session struct {
	srv  *Server
	cfg  *Config
	deps Deps
	log  *slog.Logger
	id   string
	mode Mode

	ctx    context.Context
	cancel context.CancelFunc

	conn *conn    // the TCP connection with its idle deadline
	nc   net.Conn // conn, or the TLS connection over it
	br   *bufio.Reader
	bw   *bufio.Writer
	line []byte // reused buffer for readLine
	// lineCRLF reports whether the last line readLine returned ended in
	// CR LF rather than a bare LF.
	lineCRLF bool
	werr     error // first write error; the session ends on it

	// ip and host are the client's; host is as logs and the trace show
	// it, netutil.NoName when unknown (clientHost gives "" then).
	ip, host string
	loopback bool
	// own is set when the client connected from the server's own address
	// (never banned or throttled); exempt when it is in ipfilter_exempt.cfg
	// (Config.IPFilterExempt), decided once its host name is known.
	own, exempt bool
	// slot is the session's place in the connection counts.
	slot         *netutil.Slot
	serverIP     string
	port         int
	tls          bool
	helo         string
	ehlo         bool
	auth         *envelope.Identity
	authLogin    string
	authTry      authAttempt
	badCommands  int
	messageCount int
	quit         bool // set when the session must end after the current reply
	dnsbl        dnsblListing
	spy          *spy // smtpspy.can matched: the dialogue is being logged
	// hideInput is set while the next line read is AUTH data, which a
	// spy log shows only as hidden.
	hideInput bool
	// afterReply runs once the client has the current command's reply
	// (new-mail notifications after a delivery).
	afterReply func()

	tx transaction
}

// transaction is the state between MAIL (or SEND/SOML/SAML) and the end of
// DATA or RSET.
type transaction struct {
	// authField is the Authentication-Results field mail authentication
	// made: it goes on top of each stored copy (with the trace), so the
	// text is never copied to put it in front.
	authField   []byte
	active      bool
	reversePath string
	telegram    string // "", "SEND", "SOML" or "SAML"
	rcpts       []envelope.Rcpt
	count       int    // accepted recipients, dropped ones included
	lastRcpt    string // the last RCPT TO address, for mail processors
	// bait is set when the last RCPT was spam bait (it decides whether
	// the message is dropped); baited when any was (the body is then
	// recorded as spam).
	bait, baited bool
	// listing is the DNSBL listing that applied to the message at the end
	// of DATA (dnsbl.go), for DNSBL_SPAMHASH.
	listing dnsblListing
}

func newSession(srv *Server, cfg *Config, c net.Conn, mode Mode) *session {
	ctx, cancel := context.WithCancel(srv.baseCtx)
	cn := &conn{Conn: c, idle: cfg.MaxInactivity}
	cl := netutil.NewClient(c, cfg.Loopback)
	ss := &session{
		srv:      srv,
		cfg:      cfg,
		deps:     srv.deps,
		id:       srv.ids.Next(),
		mode:     mode,
		ctx:      ctx,
		cancel:   cancel,
		conn:     cn,
		nc:       cn,
		ip:       cl.IP,
		host:     netutil.NoName,
		loopback: cl.Local,
		own:      cl.Own,
		serverIP: netutil.AddrIP(c.LocalAddr()),
		port:     netutil.AddrPort(c.LocalAddr()),
	}
	ss.log = cfg.Logger.With("id", ss.id)
	if mode == SubmissionTLS {
		ss.nc = tlsServer(cn, cfg.TLS)
		ss.tls = true
	}
	ss.setStreams()
	return ss
}

// setStreams (re)builds the buffered reader and writer over nc. After
// STARTTLS this drops whatever the client sent before the handshake.
func (s *session) setStreams() {
	s.br = bufio.NewReaderSize(s.nc, 4096)
	s.bw = bufio.NewWriterSize(s.nc, 4096)
}

// readLine reads one line ending in LF, at most limit octets including the
// line end, and returns it without CR LF. A longer line is read to its end
// and reported as errLineTooLong. Pending replies are flushed first when
// the client has not already sent a whole further line (PIPELINING, RFC
// 2920 §3: never wait for input with replies held back). The line's
// inactivity window starts only when it must be read from the connection:
// a line already buffered needs no deadline, and reading the clock for each
// line of a message was a measurable cost.
func (s *session) readLine(limit int) ([]byte, error) {
	buf, _ := s.br.Peek(s.br.Buffered())
	mustRead := bytes.IndexByte(buf, '\n') < 0
	if mustRead {
		if err := s.flush(); err != nil {
			return nil, err
		}
	}
	if err := s.throttleLine(); err != nil {
		return nil, err
	}
	if mustRead {
		s.conn.lineStart()
	}
	s.line = s.line[:0]
	tooLong := false
	for {
		frag, err := s.br.ReadSlice('\n')
		if !tooLong {
			if len(s.line)+len(frag) > limit {
				tooLong = true
			} else {
				s.line = append(s.line, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if tooLong {
		return nil, errLineTooLong
	}
	l := s.line[:len(s.line)-1]
	s.lineCRLF = false
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
		s.lineCRLF = true
	}
	s.spyRead(l)
	return l, nil
}

func (s *session) flush() error {
	if s.werr != nil {
		return s.werr
	}
	if err := s.bw.Flush(); err != nil {
		s.werr = fmt.Errorf("write to client: %w", err)
	}
	return s.werr
}

// writeLine queues one reply line.
func (s *session) writeLine(line string) {
	if s.cfg.DebugTx {
		s.log.Debug("SMTP TX: " + line)
	}
	s.spyWrite(line)
	if s.werr != nil {
		return
	}
	if _, err := s.bw.WriteString(line + "\r\n"); err != nil {
		s.werr = fmt.Errorf("write to client: %w", err)
	}
}

// send queues a reply; one that closes the session ends it afterwards.
func (s *session) send(r *envelope.Reply) {
	for _, l := range r.Lines() {
		s.writeLine(l)
	}
	if r.Close {
		s.quit = true
	}
}

// answer sends the reply for a command's outcome: nil when the command
// has nothing more to say (the client went away, or STARTTLS finished).
// A syntax or sequence error counts, and a client that makes more than
// MaxBadCommands of them is disconnected.
func (s *session) answer(err error) {
	if err == nil {
		return
	}
	r := s.replyFor(err)
	s.send(r)
	if !errors.Is(r, errBadCommand) {
		return
	}
	s.badCommands++
	if s.badCommands > s.cfg.MaxBadCommands {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] TOO MANY BAD COMMANDS (%d)", s.host, s.ip, s.badCommands))
		s.send(replyTooManyErrors(s.cfg.HostName))
	}
}

// replyFor is the one place that turns an error into an SMTP reply. A
// *envelope.Reply is sent as it is; anything else is a temporary local
// error whose text goes to the log only, under an id the client sees.
func (s *session) replyFor(err error) *envelope.Reply {
	var r *envelope.Reply
	if errors.As(err, &r) {
		return r
	}
	ref := netutil.Ref(s.id)
	s.log.Error(fmt.Sprintf("SMTP %s [%s] local error (%s): %v", s.host, s.ip, ref, err))
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) {
		// A full disk (or a quota, or a file size limit the mailbase hit)
		// is "insufficient system storage" (RFC 3463 4.3.1), as
		// Synchronet answers 452: the sender retries later.
		return envelope.Replyf(452, "4.3.1", "Insufficient system storage (%s)", ref)
	}
	return envelope.Replyf(451, "4.3.0", "Local error (%s)", ref)
}

// resetTx forgets the current transaction (RSET, HELO, EHLO, end of DATA).
func (s *session) resetTx() { s.tx = transaction{} }

// proto is the WITH keyword of the Received header (RFC 3848).
func (s *session) proto() string {
	if !s.ehlo {
		return "SMTP"
	}
	p := "ESMTP"
	if s.tls {
		p += "S"
	}
	if s.auth != nil {
		p += "A"
	}
	return p
}

// mayRelay is the relay rule: relay.cfg, or an authenticated user who may
// relay, on a submission port or with ALLOW_RELAY.
func (s *session) mayRelay() bool {
	if s.cfg.RelayHosts != nil && s.cfg.RelayHosts.Match(s.ip, s.host) {
		return true
	}
	return s.auth != nil && s.auth.MayRelay && (s.mode.submission() || s.cfg.AllowRelay)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// isTimeout reports a read that hit MaxInactivity.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isClosed reports a client that went away.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// cleanArg strips control characters from a command line (they have no
// place in SMTP commands and would otherwise reach Received headers and
// logs) and upper-cases nothing.
func cleanArg(s string) string {
	if strings.IndexFunc(s, isCtl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) {
			return -1
		}
		return r
	}, s)
}

func isCtl(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

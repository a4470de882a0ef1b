package pop3d

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

type state int

const (
	stateAuth  state = iota // RFC 1939 §4 AUTHORIZATION
	stateTrans              // RFC 1939 §5 TRANSACTION
)

// errQuiet ends a session without another reply (the connection is gone,
// or a TLS handshake failed so nothing readable can be sent).
var errQuiet = errors.New("connection closed")

// session is one client connection. Only its own goroutine touches it,
// except raw (closed or given a deadline by Shutdown) and the fields the
// server guards with its mutex (holdsLock, ident during lock).
type session struct {
	srv   *Server
	cfg   *Config
	raw   net.Conn // the accepted TCP connection
	conn  net.Conn // raw, or the TLS connection on top of it
	mode  Mode
	ip    string
	host  string // forward-confirmed host name; "" when unknown
	proto string // "POP3", or "POP3S" on the implicit TLS port
	// local is set when Config.Loopback counts the client as local; own
	// when it connected from the server's own address; exempt when it is
	// in ipfilter_exempt.cfg (Config.IPFilterExempt).
	local, own, exempt bool
	id                 string
	log                *slog.Logger
	ctx                context.Context
	cancel             context.CancelFunc

	r    *bufio.Reader
	w    *bufio.Writer
	werr error // first write error; the session ends when it is set
	// text and out are reused from one RETR or TOP to the next: the
	// message as read, and the response as sent.
	text, out []byte
	tls       bool

	challenge string
	state     state
	user      string // name from USER, for the PASS that must follow
	nospam    bool
	ident     envelope.Identity
	holdsLock bool // guarded by srv.mu
	msgs      []entry
	updated   bool // QUIT ran the UPDATE state
	quit      bool

	bad, authCmds, freeCmds int
	// slot is the connection's place in the connection counts; nil for a
	// refused one.
	slot *netutil.Slot
	// checkDone ends the hold on the address's password check; nil when
	// none is held.
	checkDone func()
}

func newSession(srv *Server, cfg *Config, c net.Conn, mode Mode) *session {
	ctx, cancel := context.WithCancel(context.Background())
	cl := netutil.NewClient(c, cfg.Loopback)
	s := &session{
		srv: srv, cfg: cfg, raw: c, conn: c, mode: mode, proto: mode.String(),
		ip: cl.IP, local: cl.Local, own: cl.Own, id: srv.ids.Next(),
		ctx: ctx, cancel: cancel,
	}
	s.log = cfg.Logger.With("id", s.id, "ip", s.ip)
	s.r = bufio.NewReader(c)
	s.w = bufio.NewWriter(deadlineWriter{s})
	return s
}

// deadlineWriter gives every write to the client MaxInactivity to complete,
// so a client that stops reading cannot hold a session forever.
type deadlineWriter struct{ s *session }

// writeChunk is how much of a write gets one MaxInactivity: a whole
// message goes out in one Write, and a slow client reading a large one
// must not be cut for the time the whole of it takes.
const writeChunk = 64 << 10

func (d deadlineWriter) Write(p []byte) (int, error) {
	if d.s.werr != nil {
		return 0, d.s.werr
	}
	n := 0
	for n < len(p) {
		_ = d.s.conn.SetWriteDeadline(time.Now().Add(d.s.cfg.MaxInactivity))
		m, err := d.s.conn.Write(p[n:min(len(p), n+writeChunk)])
		n += m
		if err != nil {
			d.s.werr = fmt.Errorf("write to client: %w", err)
			return n, err
		}
	}
	return n, nil
}

// interrupt wakes a session that waits for a command, for Shutdown. The
// session sees the server shutting down once its read returns.
func (s *session) interrupt() { _ = s.raw.SetReadDeadline(time.Now()) }

// run serves the connection until QUIT, an error or Shutdown.
func (s *session) run(verdict netutil.Verdict) {
	defer s.cancel()
	defer s.endCheck()
	defer func() { _ = s.conn.Close() }()
	// The mailbox is free before the client sees the connection close, so
	// a client that reconnects at once (after a dropped connection, or a
	// panic) is not told it is still in use.
	defer s.srv.unlock(s)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("POP3 !PANIC in session", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	s.log.Info(fmt.Sprintf("POP3 connection accepted from: %s port %d", s.ip, netutil.AddrPort(s.raw.RemoteAddr())))
	if verdict != netutil.Admitted {
		// A refused client gets a few seconds, the TLS handshake on 995
		// included, never MaxInactivity: refusals happen under load.
		s.cfg = refusalConfig(s.cfg)
	}
	if s.mode == ImplicitTLS && !s.startTLS() {
		return
	}
	switch verdict {
	case netutil.TooManyFromIP:
		s.log.Warn(fmt.Sprintf("POP3 !MAXIMUM CONNECTIONS (%d) EXCEEDED by %s", s.cfg.MaxConnsPerIP, s.ip))
		s.sendNow("-ERR System Error: Maximum connections exceeded, try again later")
		return
	case netutil.TooManyClients:
		s.log.Warn(fmt.Sprintf("POP3 !MAXIMUM CLIENTS (%d) reached, refusing %s", s.cfg.MaxClients, s.ip))
		s.sendNow("-ERR System Error: Maximum active clients reached, try again later")
		return
	case netutil.ShuttingDown:
		s.sendNow("-ERR [SYS/TEMP] Server shutting down")
		return
	}
	s.lookupHost()
	if err := s.connectChecks(); err != nil {
		if !errors.Is(err, errSilent) {
			s.reply(err)
			_ = s.w.Flush()
		}
		return
	}
	s.throttle()
	if s.srv.shutting.Load() {
		s.sendNow("-ERR [SYS/TEMP] Server shutting down")
		return
	}
	s.challenge = newChallenge(s.cfg.HostName)
	s.send(s.greeting())
	s.loop()
	s.finish()
	s.log.Info("POP3 session ended", "user", s.ident.Alias)
}

func (s *session) greeting() string {
	words := []string{"+OK", s.cfg.HostName, "bbsmail", s.proto, "Server"}
	if s.cfg.Version != "" {
		words = append(words, s.cfg.Version)
	}
	return strings.Join(append(words, "Ready", s.challenge), " ")
}

// newChallenge makes the RFC 1939 §7 timestamp: unique per greeting.
func newChallenge(host string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(b[:]), time.Now().UnixNano(), host)
}

func (s *session) loop() {
	for !s.quit {
		if s.flushIfIdle() != nil {
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(s.cfg.MaxInactivity))
		if s.srv.shutting.Load() {
			s.sendNow("-ERR [SYS/TEMP] Server shutting down")
			return
		}
		line, err := readLine(s.r)
		if err != nil && !errors.Is(err, errLineTooLong) {
			s.readFailed(err)
			return
		}
		if rerr := s.allowRequest(); rerr != nil {
			s.reply(rerr)
			_ = s.w.Flush()
			return
		}
		if err == nil {
			s.debugLine(line)
			err = s.dispatch(line)
		} else {
			err = badCommand("Line too long")
		}
		if s.reply(err) {
			_ = s.w.Flush()
			return
		}
	}
	_ = s.w.Flush()
}

// flushIfIdle sends buffered replies once the client has no further
// pipelined commands waiting (RFC 2449 §6.6).
func (s *session) flushIfIdle() error {
	if s.r.Buffered() > 0 {
		return s.werr
	}
	_ = s.w.Flush()
	return s.werr
}

func (s *session) readFailed(err error) {
	var ne net.Error
	switch {
	case s.srv.shutting.Load():
		s.sendNow("-ERR [SYS/TEMP] Server shutting down")
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info(fmt.Sprintf("POP3 inactivity timeout (%s) for %s", s.cfg.MaxInactivity, s.ip))
		s.sendNow("-ERR Inactivity timeout, closing connection")
	default:
		s.log.Debug("POP3 client disconnected", "err", err)
	}
}

func (s *session) debugLine(line string) {
	if !s.cfg.Debug {
		return
	}
	// Mask whatever could be a password, however the client spaced it
	// ("PASS\tpw", " PASS pw"): the parser may refuse such a line, but it
	// is logged first.
	if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "PASS") {
		line = "PASS ********"
	}
	s.log.Debug("POP3 RX " + line)
}

// reply turns a handler's result into the reply line: the one place where
// errors become POP3 answers. It reports whether the session must end.
func (s *session) reply(err error) bool {
	if s.werr != nil || errors.Is(err, errQuiet) {
		return true
	}
	if err == nil {
		return false
	}
	var re *replyError
	if errors.As(err, &re) && re.Err != nil {
		s.log.Error("POP3 !ERROR", "err", re.Err)
	}
	if re == nil {
		ref := netutil.Ref(s.id)
		s.log.Error("POP3 !ERROR", "ref", ref, "err", err)
		re = &replyError{Text: "[SYS/TEMP] Internal error, try again later (ref " + ref + ")"}
	}
	text, end := re.Text, re.Close
	if re.Bad {
		s.bad++
		if s.bad >= s.cfg.MaxBadCommands {
			s.log.Warn(fmt.Sprintf("POP3 !TOO MANY BAD COMMANDS (%d) from %s", s.bad, s.ip))
			text, end = "Too many bad commands, closing connection", true
		}
	}
	s.send("-ERR " + text)
	return end
}

// send queues one reply line; it goes out at the next flush.
func (s *session) send(line string) {
	if s.cfg.Debug {
		s.log.Debug("POP3 TX " + line)
	}
	_, _ = s.w.WriteString(line + "\r\n")
}

// sendNow writes a last line before the connection is closed.
func (s *session) sendNow(line string) {
	s.send(line)
	_ = s.w.Flush()
}

func (s *session) dispatch(line string) error {
	cmd, err := parseCommand(line)
	if err != nil {
		return badCommand("Unknown command")
	}
	if s.state == stateAuth {
		return s.authCommand(cmd)
	}
	return s.transCommand(cmd)
}

// authCommand handles the AUTHORIZATION state (RFC 1939 §4, RFC 2595 §4).
func (s *session) authCommand(cmd command) error {
	pendingUser := s.user
	s.user = ""
	switch cmd.Verb {
	case "CAPA", "STLS":
		if s.freeCmds++; s.freeCmds > maxFreeCommands {
			return &replyError{Text: "Too many commands without login", Close: true}
		}
		if cmd.Verb == "CAPA" {
			s.capa()
			return nil
		}
		return s.stls()
	case "QUIT":
		s.send("+OK " + s.cfg.HostName + " POP3 server signing off")
		s.quit = true
		return nil
	}
	if s.authCmds++; s.authCmds > maxAuthCommands {
		s.log.Warn(fmt.Sprintf("POP3 !TOO MANY COMMANDS without login from %s", s.ip))
		return &replyError{Text: "Too many commands without login", Close: true}
	}
	if (cmd.Verb == "USER" || cmd.Verb == "PASS" || cmd.Verb == "APOP") && !s.plaintextAllowed() {
		s.log.Info(fmt.Sprintf("POP3 [%s] %s refused before STLS (DisablePlaintextAuth)", s.ip, cmd.Verb))
		return &replyError{Text: "[AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."}
	}
	switch cmd.Verb {
	case "USER":
		if strings.TrimSpace(cmd.Arg) == "" {
			return badCommand("USER needs a name")
		}
		s.user = cmd.Arg
		s.send("+OK send your password")
		return nil
	case "PASS":
		if pendingUser == "" {
			return badCommand("USER first")
		}
		c := credentials{method: "USER/PASS", name: pendingUser, tried: cmd.Arg}
		return s.login(c, func(ctx context.Context, login string) (envelope.Identity, bool, error) {
			id, err := s.srv.deps.Auth.Authenticate(ctx, login, cmd.Arg)
			return id, cmd.Arg != "", err
		})
	case "APOP":
		return s.apop(cmd.Arg)
	case "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP":
		return badCommand("Not logged in")
	}
	return badCommand("Unknown command")
}

// plaintextAllowed reports whether USER/PASS and APOP may be used now:
// always over TLS or from the server's own address, else unless
// DisablePlaintextAuth is set.
func (s *session) plaintextAllowed() bool {
	return !s.cfg.DisablePlaintextAuth || s.tls || s.own
}

func (s *session) capa() {
	s.send("+OK Capability list follows")
	for _, c := range []string{"TOP", "USER", "PIPELINING", "UIDL", "RESP-CODES", "AUTH-RESP-CODE"} {
		// RFC 2595 §4: USER is not announced where it is refused.
		if c == "USER" && s.state == stateAuth && !s.plaintextAllowed() {
			continue
		}
		s.send(c)
	}
	impl := "IMPLEMENTATION bbsmail"
	if s.cfg.Version != "" {
		impl += " " + s.cfg.Version
	}
	s.send(impl)
	if s.state == stateAuth && !s.tls && s.cfg.TLS != nil {
		s.send("STLS")
	}
	s.send(".")
}

// stls upgrades the connection (RFC 2595 §4). Whatever the client sent
// after STLS and before the handshake is thrown away with the old reader,
// so plaintext injected by a man in the middle never reaches the session.
func (s *session) stls() error {
	if s.tls {
		return refuse("Already using TLS")
	}
	if s.cfg.TLS == nil {
		return refuse("STLS not available")
	}
	s.sendNow("+OK Begin TLS negotiation")
	if s.werr != nil || !s.startTLS() {
		return errQuiet
	}
	return nil
}

// refusalConfig is cfg with the inactivity limit cut to a few seconds.
func refusalConfig(cfg *Config) *Config {
	c := *cfg
	c.MaxInactivity = min(c.MaxInactivity, netutil.RefusalTimeout)
	return &c
}

// startTLS runs the server side of a TLS handshake on the connection.
func (s *session) startTLS() bool {
	tc := tls.Server(s.raw, tlsConfig(s.cfg))
	_ = tc.SetDeadline(time.Now().Add(s.cfg.MaxInactivity))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.log.Log(context.Background(), netutil.TLSFailureLevel(err, s.cfg.TLSErrorLevel),
			fmt.Sprintf("POP3 [%s] !TLS handshake failed: %v", s.ip, err))
		return false
	}
	_ = tc.SetDeadline(time.Time{})
	s.conn, s.tls = tc, true
	s.r = bufio.NewReader(tc)
	return true
}

func (s *session) apop(arg string) error {
	i := strings.LastIndexByte(arg, ' ')
	if i <= 0 {
		return badCommand("APOP needs a name and a digest")
	}
	name, digest := arg[:i], strings.ToLower(arg[i+1:])
	if _, err := hex.DecodeString(digest); err != nil || len(digest) != 2*md5.Size {
		return badCommand("APOP digest must be 32 hexadecimal digits")
	}
	c := credentials{method: "APOP", name: name, tried: digest, digest: true}
	return s.login(c, func(ctx context.Context, login string) (envelope.Identity, bool, error) {
		id, secret, err := s.srv.deps.Auth.Secret(ctx, login)
		if err != nil {
			return id, false, err
		}
		// Synchronet compares passwords case-insensitively and digests the
		// lower-cased secret, so clients set up for it send that digest.
		if apopMatch(s.challenge, secret, digest) || apopMatch(s.challenge, strings.ToLower(secret), digest) {
			return id, secret != "", nil
		}
		return envelope.Identity{}, false, fmt.Errorf("APOP digest mismatch: %w", ErrBadLogin)
	})
}

func apopMatch(challenge, secret, digest string) bool {
	sum := md5.Sum([]byte(challenge + secret))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(digest)) == 1
}

// splitNoSpam cuts a login name at "#nospam": the session then hides mail
// flagged as spam.
func splitNoSpam(name string) (string, bool) {
	i := strings.Index(strings.ToLower(name), "#nospam")
	if i < 0 {
		return name, false
	}
	return name[:i], true
}

// login checks credentials, takes the mailbox lock and snapshots the
// message list, entering the TRANSACTION state. verify also says whether
// the account has a password: only then does a success clear the client's
// failed logins.
func (s *session) login(c credentials, verify func(context.Context, string) (envelope.Identity, bool, error)) error {
	method := c.method
	login, nospam := splitNoSpam(c.name)
	prot := "POP3"
	if s.tls {
		prot = "POP3S"
	}
	ctx := envelope.WithClient(s.ctx, envelope.Client{IP: s.ip, Host: s.host, Protocol: prot})
	ctx, cancel := context.WithTimeout(ctx, s.cfg.MaxInactivity)
	defer cancel()
	id, hasPassword, err := s.check(ctx, login, verify)
	if err != nil {
		if !errors.Is(err, ErrBadLogin) {
			s.endCheck()
			s.log.Error(fmt.Sprintf("POP3 !ERROR checking credentials for user: %s", login), "err", err)
			return &replyError{Text: "[SYS/TEMP] Authentication unavailable, try again later", Close: true}
		}
		s.observeAuth(method, false)
		s.log.Warn(fmt.Sprintf("POP3 [%s] !AUTHENTICATION FAILURE (%s) for user: %s", s.ip, method, login))
		s.loginFailed(c, login)
		s.endCheck()
		s.pause(s.cfg.LoginAttemptDelay)
		return &replyError{Text: "[AUTH] Authentication failure", Close: true}
	}
	s.observeAuth(method, true)
	if g := s.srv.deps.Guard; g != nil && hasPassword {
		g.Succeeded(s.ip)
	}
	s.endCheck()
	if !s.srv.lock(s, id) {
		s.log.Warn(fmt.Sprintf("POP3 !MAILBOX IN USE for %s from %s", id.Alias, s.ip))
		return &replyError{Text: "[IN-USE] Mailbox already locked", Close: true}
	}
	all, err := s.srv.deps.Mailbox.List(s.ctx, id.User)
	if err != nil {
		return &replyError{Text: "[SYS/TEMP] Mailbox unavailable, try again later", Close: true,
			Err: fmt.Errorf("list mailbox of user %d: %w", id.User, err)}
	}
	s.msgs = make([]entry, 0, len(all))
	for _, m := range all {
		if nospam && m.Spam {
			continue
		}
		s.msgs = append(s.msgs, entry{Message: m})
	}
	s.nospam, s.state = nospam, stateTrans
	how := ""
	if nospam {
		how = " (spam hidden)"
	}
	s.log.Info(fmt.Sprintf("POP3 %s logged in via %s%s", id.Alias, method, how))
	n, size := s.totals()
	s.send(fmt.Sprintf("+OK %s has %d messages (%d octets)", id.Alias, n, size))
	return nil
}

// check runs verify as the only password check from the client's address
// (LoginGuard.Checking), refusing a client banned before or during it. The
// caller reports the outcome to the guard, then calls endCheck.
func (s *session) check(ctx context.Context, login string, verify func(context.Context, string) (envelope.Identity, bool, error)) (envelope.Identity, bool, error) {
	g := s.srv.deps.Guard
	if g != nil && !s.own && !s.exempt {
		done, err := g.Checking(ctx, s.ip)
		if err != nil {
			return envelope.Identity{}, false, fmt.Errorf("waiting for the previous login check: %w", err)
		}
		s.checkDone = done
	}
	// Banned since it connected: with many connections opened before the
	// ban, the client must not keep guessing on them.
	if s.bannedNow() {
		return envelope.Identity{}, false, fmt.Errorf("client temporarily banned: %w", ErrBadLogin)
	}
	id, hasPassword, err := verify(ctx, login)
	if err == nil && id.User == 0 {
		err = fmt.Errorf("user number 0: %w", ErrBadLogin)
	}
	if err == nil && s.bannedNow() {
		err = fmt.Errorf("client temporarily banned during the check: %w", ErrBadLogin)
	}
	return id, hasPassword, err
}

// endCheck lets the next password check from the client's address begin.
func (s *session) endCheck() {
	if s.checkDone != nil {
		s.checkDone()
		s.checkDone = nil
	}
}

// pause waits before a failure reply, cut short by Shutdown.
func (s *session) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	case <-s.srv.stopped:
	}
}

// observeAuth tells Deps.Observer how a login check ended.
func (s *session) observeAuth(method string, ok bool) {
	if o := s.srv.deps.Observer; o != nil {
		o.AuthResult(method, ok)
	}
}

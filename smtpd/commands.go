package smtpd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// command answers one command line: its handler's outcome is the reply,
// sent here and nowhere else. Work that must wait until the client has
// its answer (new-mail notifications) runs after it.
func (s *session) command(line string) {
	verb, arg, ok := parseCommand(line)
	if s.cfg.DebugRxRsp {
		s.log.Debug("SMTP RX: " + hideAuth(line))
	}
	if !ok {
		s.answer(replyControlChar)
		return
	}
	s.answer(s.handle(verb, arg))
	if after := s.afterReply; after != nil {
		s.afterReply = nil
		_ = s.flush()
		after()
	}
}

// handle runs one command and returns its reply (or the error that
// replyFor turns into one).
func (s *session) handle(verb, arg string) error {
	switch verb {
	case "HELO", "EHLO":
		return s.hello(verb, arg)
	case "AUTH":
		return s.authCommand(arg)
	case "STARTTLS":
		return s.startTLS(arg)
	case "MAIL", "SEND", "SOML", "SAML":
		return s.mail(verb, arg)
	case "RCPT":
		return s.rcpt(arg)
	case "DATA":
		return s.data(arg)
	case "RSET":
		s.resetTx()
		return replyOK
	case "NOOP":
		return replyOK
	case "QUIT":
		return replyQuit(s.cfg.HostName)
	case "VRFY":
		return replyVRFY
	case "HELP":
		return replyHELP
	case "EXPN", "TURN", "ETRN", "BDAT":
		return replyNotImplemented
	}
	return replyUnrecognized
}

// hello answers HELO and EHLO (RFC 5321 §4.1.1.1) and resets the
// transaction. The replies carry no enhanced code (RFC 2034 §3).
func (s *session) hello(verb, arg string) error {
	if arg == "" {
		return syntaxReply(verb + " hostname")
	}
	s.resetTx()
	s.helo = strings.Fields(arg)[0]
	s.ehlo = verb == "EHLO"
	if !s.ehlo {
		return replyHello(s.cfg.HostName)
	}
	caps := []string{s.cfg.HostName}
	if s.cfg.MaxMsgSize > 0 {
		caps = append(caps, fmt.Sprintf("SIZE %d", s.cfg.MaxMsgSize))
	}
	caps = append(caps, "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")
	if s.cfg.TLS != nil && !s.tls {
		caps = append(caps, "STARTTLS")
	}
	if s.deps.Auth != nil {
		caps = append(caps, "AUTH "+strings.Join(s.authMechanisms(), " "))
	}
	if s.deps.Telegrams != nil {
		caps = append(caps, "SEND", "SOML", "SAML")
	}
	caps = append(caps, "HELP")
	return replyHello(strings.Join(caps, "\n"))
}

// startTLS upgrades the connection (RFC 3207). Afterwards the session
// starts over: HELO/EHLO is needed again and AUTH is forgotten (§4.2), and
// anything the client sent behind STARTTLS before the handshake is thrown
// away so it can't be injected into the encrypted session. The 220 goes
// out before the handshake; there is no reply after it.
func (s *session) startTLS(arg string) error {
	switch {
	case arg != "":
		return syntaxReply("STARTTLS")
	case s.tls:
		return replyTLSActive
	case s.cfg.TLS == nil:
		return replyNoTLS
	}
	s.send(replyStartTLS)
	if err := s.flush(); err != nil {
		s.quit = true
		return nil
	}
	if n := s.br.Buffered(); n > 0 {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] discarded %d bytes sent before the TLS handshake", s.host, s.ip, n))
	}
	s.nc = tlsServer(s.conn, s.cfg.TLS)
	s.setStreams()
	if err := s.handshake(); err != nil {
		s.logTLSFailure(err)
		s.quit = true
		s.werr = err // nothing more may be written in clear text
		return nil
	}
	s.tls = true
	s.helo, s.ehlo, s.auth, s.authLogin = "", false, nil, ""
	s.resetTx()
	s.log.Debug(fmt.Sprintf("SMTP %s [%s] STARTTLS done", s.host, s.ip))
	return nil
}

// mail starts a transaction: MAIL FROM (RFC 5321 §4.1.1.2) or a telegram
// (SEND, SOML, SAML FROM: RFC 821 §4.1.1).
func (s *session) mail(verb, arg string) error {
	telegram := verb != "MAIL"
	switch {
	case s.stopping():
		return replyShuttingDown
	case telegram && s.deps.Telegrams == nil:
		return replyNotImplemented
	case s.helo == "":
		return replyNeedHELO
	}
	m, err := parseMailArg(arg, "FROM:")
	if err != nil {
		return argError(err, verb+" FROM:<address>")
	}
	if err := s.checkSender(m); err != nil {
		return err
	}
	s.dnsblExemptSender(m.path)
	s.spyOn("sender <"+m.path+">", verb+" "+arg, m.path)
	s.resetTx()
	s.tx.active = true
	s.tx.reversePath = m.path
	if telegram {
		s.tx.telegram = verb
	}
	return replySenderOK
}

// checkSender runs the MAIL checks in order: AUTH on submission ports,
// email.can, SIZE, sender ownership after AUTH on any port.
func (s *session) checkSender(m mailArgs) error {
	if s.mode.submission() && s.auth == nil {
		return replyAuthNeeded
	}
	if err := s.checkSourceAddr(m.path); err != nil {
		return err
	}
	if s.cfg.MaxMsgSize > 0 && m.size > s.cfg.MaxMsgSize {
		return replySizeLimit
	}
	return s.checkMailOwner(m.path) // senders.go
}

// argError answers a MAIL/RCPT argument that did not parse.
func argError(err error, syntax string) error {
	switch {
	case errors.Is(err, errUnknownParm):
		return replyUnknownParm
	case errors.Is(err, errBadPath):
		return replyBadSender
	case errors.Is(err, errBadParams):
		return replyBadParm
	}
	return syntaxReply(syntax)
}

// rcpt adds a recipient (RFC 5321 §4.1.1.3).
func (s *session) rcpt(arg string) error {
	if !s.tx.active {
		return replyNeedMAIL
	}
	m, err := parseMailArg(arg, "TO:")
	if errors.Is(err, errBadPath) {
		return replyBadRcpt
	}
	if err != nil {
		return argError(err, "RCPT TO:<address>")
	}
	if s.cfg.MaxRecipients > 0 && s.tx.count >= s.cfg.MaxRecipients {
		return replyTooManyRcpt
	}
	fp := strings.TrimSpace(arg[len("TO:"):])
	s.tx.lastRcpt = m.path // mail processors' recipient_address, accepted or not
	// Lists are matched without quotes: "bait"@... is bait@..., as in Synchronet.
	addr := rcptAddr(envelope.StripQuotes(m.path))
	s.spyOn("recipient <"+addr+">", "RCPT "+arg, addr)
	if s.rcptBait(addr, fp) { // spam.go
		return replyRcptOK
	}
	if err := s.checkRcptAddr(m.path, fp); err != nil {
		return err
	}
	if err := s.checkDNSBLRcpt(m.path); err != nil {
		return err
	}
	rc, err := s.resolve(fp)
	if errors.Is(err, envelope.ErrRelayDenied) {
		s.relayDenied(m.path)
	}
	if err != nil {
		if errors.Is(err, envelope.ErrUnknownUser) {
			s.logUnknownRcpt(fp)
		}
		return err
	}
	if rc.ForwardPath == "" && !rc.Forwarded {
		rc.ForwardPath = fp
	}
	s.tx.count++
	s.tx.rcpts = append(s.tx.rcpts, rc)
	return replyRcptOK
}

// resolve asks the Resolver about one recipient. The telegram rules (a
// BBS user is needed, and for SEND the user must be online) are the
// Resolver's too.
func (s *session) resolve(fp string) (envelope.Rcpt, error) {
	q := envelope.RcptQuery{
		Arg:        fp,
		Auth:       s.auth,
		MayRelay:   s.mayRelay(),
		Submission: s.mode.submission(),
		Telegram:   s.tx.telegram != "",
		SendOnly:   s.tx.telegram == "SEND",
		Port:       s.port,
		Listed:     s.dnsblListed(),
		ClientIP:   s.ip,
		ClientHost: s.clientHost(),
		TLS:        s.tls,
	}
	rc, err := s.deps.Resolver.Resolve(s.ctx, q)
	if err != nil {
		return rc, fmt.Errorf("resolve %s: %w", fp, err)
	}
	return rc, nil
}

// relayDenied logs a relay attempt the way fail2ban filters expect and
// writes spam.log; the Resolver's refusal is the reply, and it closes
// the session.
func (s *session) relayDenied(to string) {
	s.log.Warn(fmt.Sprintf("SMTP %s [%s] ILLEGAL RELAY ATTEMPT from %s to %s", s.host, s.ip, s.tx.reversePath, to))
	s.spamLog("REFUSED", to, "Relay attempt to: "+to)
}

// notify sends new-mail telegrams after a delivery: to local recipients
// who are online (or all of them with NotifyOfflineUsers), and always for
// mail forwarded to a user's netmail address.
func (s *session) notify(from string, rcpts []envelope.Rcpt) {
	t := s.deps.Telegrams
	if t == nil || s.cfg.NoNotify {
		return
	}
	for _, r := range rcpts {
		if r.User == 0 || (r.Kind != envelope.KindMailbox && !r.Forwarded) {
			continue
		}
		text := "You have new e-mail from " + from
		if r.Forwarded {
			text = fmt.Sprintf("Your new e-mail from %s was forwarded to %s", from, r.NetAddr)
		} else if !s.cfg.NotifyOfflineUsers && !t.Online(s.ctx, r.User) {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.MaxInactivity)
		err := t.SendTelegram(ctx, r.User, text+"\r\n")
		cancel()
		if err != nil {
			s.log.Warn(fmt.Sprintf("SMTP new-mail notification to user #%d failed: %v", r.User, err))
		}
	}
}

// hideAuth returns a command line for the logs: an AUTH command (however
// it is spelt: control characters in the verb, a leading space, a tab for
// the space, all refused by the parser) shows its mechanism only, never
// the initial response that carries the credentials.
func hideAuth(line string) string {
	f := strings.FieldsFunc(cleanArg(line), func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) == 0 || !strings.EqualFold(f[0], "AUTH") {
		return line
	}
	switch len(f) {
	case 1:
		return "AUTH"
	case 2:
		return "AUTH " + f[1]
	}
	return "AUTH " + f[1] + " (initial response hidden)"
}

package smtpd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// command answers one command line.
func (s *session) command(line string) {
	verb, arg, ok := parseCommand(line)
	if s.cfg.DebugRxRsp {
		shown := line
		if verb == "AUTH" {
			shown = "AUTH " + strings.SplitN(arg, " ", 2)[0] // never log credentials
		}
		s.log.Debug("SMTP RX: " + shown)
	}
	if !ok {
		s.badCommand(500, "5.5.2", "Syntax error, control character in command")
		return
	}
	switch verb {
	case "HELO", "EHLO":
		s.hello(verb, arg)
	case "AUTH":
		s.authCommand(arg)
	case "STARTTLS":
		s.startTLS(arg)
	case "MAIL", "SEND", "SOML", "SAML":
		s.mail(verb, arg)
	case "RCPT":
		s.rcpt(arg)
	case "DATA":
		s.data(arg)
	case "RSET":
		s.resetTx()
		s.reply(250, "2.0.0", "OK")
	case "NOOP":
		s.reply(250, "2.0.0", "OK")
	case "QUIT":
		s.reply(221, "2.0.0", "%s Service closing transmission channel", s.cfg.HostName)
		s.quit = true
	case "VRFY":
		s.reply(252, "2.5.0", "Cannot verify the address; send mail and delivery will be attempted")
	case "HELP":
		s.reply(214, "2.0.0", "Commands: HELO EHLO AUTH STARTTLS MAIL SEND SOML SAML RCPT DATA RSET NOOP VRFY QUIT")
	case "EXPN", "TURN", "ETRN", "BDAT":
		s.reply(502, "5.5.1", "Command not implemented")
	default:
		s.badCommand(500, "5.5.2", "Syntax error, command unrecognized")
	}
}

// hello answers HELO and EHLO (RFC 5321 §4.1.1.1) and resets the
// transaction. The replies carry no enhanced code (RFC 2034 §3).
func (s *session) hello(verb, arg string) {
	if arg == "" {
		s.badCommand(501, "5.5.4", "Syntax: "+verb+" hostname")
		return
	}
	s.resetTx()
	s.helo = strings.Fields(arg)[0]
	s.ehlo = verb == "EHLO"
	if !s.ehlo {
		s.writeLine("250 " + s.cfg.HostName)
		return
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
	for i, c := range caps {
		sep := "-"
		if i == len(caps)-1 {
			sep = " "
		}
		s.writeLine("250" + sep + c)
	}
}

// startTLS upgrades the connection (RFC 3207). Afterwards the session
// starts over: HELO/EHLO is needed again and AUTH is forgotten (§4.2), and
// anything the client sent behind STARTTLS before the handshake is thrown
// away so it can't be injected into the encrypted session.
func (s *session) startTLS(arg string) {
	switch {
	case arg != "":
		s.badCommand(501, "5.5.4", "Syntax: STARTTLS")
		return
	case s.tls:
		s.badCommand(503, "5.5.1", "TLS already active")
		return
	case s.cfg.TLS == nil:
		s.reply(454, "4.7.0", "TLS not available")
		return
	}
	s.reply(220, "2.0.0", "Ready to start TLS")
	if err := s.flush(); err != nil {
		s.quit = true
		return
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
		return
	}
	s.tls = true
	s.helo, s.ehlo, s.auth, s.authLogin = "", false, nil, ""
	s.resetTx()
	s.log.Debug(fmt.Sprintf("SMTP %s [%s] STARTTLS done", s.host, s.ip))
}

// mail starts a transaction: MAIL FROM (RFC 5321 §4.1.1.2) or a telegram
// (SEND, SOML, SAML FROM: RFC 821 §4.1.1).
func (s *session) mail(verb, arg string) {
	telegram := verb != "MAIL"
	switch {
	case s.stopping():
		s.reply(421, "4.3.2", "%s Service shutting down", s.cfg.HostName)
		s.quit = true
		return
	case telegram && s.deps.Telegrams == nil:
		s.reply(502, "5.5.1", "Command not implemented")
		return
	case s.helo == "":
		s.badCommand(503, "5.5.1", "Bad sequence of commands: send HELO/EHLO first")
		return
	}
	m, err := parseMailArg(arg, "FROM:")
	if err != nil {
		s.argError(err, verb+" FROM:<address>")
		return
	}
	if err := s.checkSender(m); err != nil {
		s.send(s.replyFor(err))
		return
	}
	s.dnsblExemptSender(m.path)
	s.spyOn("sender <"+m.path+">", verb+" "+arg, m.path)
	s.resetTx()
	s.tx.active = true
	s.tx.reversePath = m.path
	if telegram {
		s.tx.telegram = verb
	}
	s.reply(250, "2.1.0", "OK")
}

// checkSender runs the MAIL checks in order: AUTH on submission ports,
// email.can, SIZE, sender ownership after AUTH on any port.
func (s *session) checkSender(m mailArgs) error {
	if s.mode.submission() && s.auth == nil {
		return &envelope.Reply{Code: 530, Enhanced: "5.7.0", Text: "Authentication required.", Err: envelope.ErrAuthRequired}
	}
	if err := s.checkSourceAddr(m.path); err != nil {
		return err
	}
	if s.cfg.MaxMsgSize > 0 && m.size > s.cfg.MaxMsgSize {
		return envelope.Replyf(552, "5.3.4", "Message size exceeds maximum")
	}
	return s.checkMailOwner(m.path) // senders.go
}

// argError answers a MAIL/RCPT argument that did not parse.
func (s *session) argError(err error, syntax string) {
	switch {
	case errors.Is(err, errUnknownParm):
		s.badCommand(555, "5.5.4", "Unsupported parameter")
	case errors.Is(err, errBadPath):
		s.badCommand(501, "5.1.7", "Bad address syntax")
	case errors.Is(err, errBadParams):
		s.badCommand(501, "5.5.4", "Bad parameter")
	default:
		s.badCommand(501, "5.5.4", "Syntax: "+syntax)
	}
}

// rcpt adds a recipient (RFC 5321 §4.1.1.3).
func (s *session) rcpt(arg string) {
	if !s.tx.active {
		s.badCommand(503, "5.5.1", "Bad sequence of commands: send MAIL first")
		return
	}
	m, err := parseMailArg(arg, "TO:")
	if errors.Is(err, errBadPath) {
		s.badCommand(553, "5.1.3", "Bad destination mailbox address syntax")
		return
	}
	if err != nil {
		s.argError(err, "RCPT TO:<address>")
		return
	}
	if s.cfg.MaxRecipients > 0 && s.tx.count >= s.cfg.MaxRecipients {
		s.reply(452, "4.5.3", "Too many recipients")
		return
	}
	fp := strings.TrimSpace(arg[len("TO:"):])
	s.tx.lastRcpt = m.path // mail processors' recipient_address, accepted or not
	// Lists are matched without quotes: "bait"@... is bait@..., as in Synchronet.
	addr := rcptAddr(envelope.StripQuotes(m.path))
	s.spyOn("recipient <"+addr+">", "RCPT "+arg, addr)
	if s.rcptBait(addr, fp) { // spam.go
		return
	}
	if err := s.checkRcptAddr(m.path, fp); err != nil {
		s.send(s.replyFor(err))
		return
	}
	if err := s.checkDNSBLRcpt(m.path); err != nil {
		s.send(s.replyFor(err))
		return
	}
	rc, err := s.resolve(fp)
	if errors.Is(err, envelope.ErrRelayDenied) {
		s.relayDenied(m.path)
		return
	}
	if err != nil {
		if errors.Is(err, envelope.ErrUnknownUser) {
			s.logUnknownRcpt(fp)
		}
		s.send(s.replyFor(err))
		return
	}
	if rc.ForwardPath == "" && !rc.Forwarded {
		rc.ForwardPath = fp
	}
	s.tx.count++
	s.tx.rcpts = append(s.tx.rcpts, rc)
	s.reply(250, "2.1.5", "OK")
}

// resolve asks the Resolver about one recipient and applies the telegram
// rules: a BBS user is needed, and for SEND the user must be online.
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
	if !q.Telegram {
		return rc, nil
	}
	if rc.User == 0 || rc.Kind != envelope.KindMailbox {
		return rc, &envelope.Reply{Code: 550, Enhanced: "5.1.1", Text: "Unknown User: " + fp, Err: envelope.ErrUnknownUser}
	}
	if q.SendOnly && !s.deps.Telegrams.Online(s.ctx, rc.User) {
		return rc, &envelope.Reply{Code: 450, Enhanced: "4.2.1", Text: "User unavailable", Err: envelope.ErrUnavailable}
	}
	return rc, nil
}

// relayDenied refuses a relay attempt, logs it the way fail2ban filters
// expect, writes spam.log and disconnects.
func (s *session) relayDenied(to string) {
	s.log.Warn(fmt.Sprintf("SMTP %s [%s] ILLEGAL RELAY ATTEMPT from %s to %s", s.host, s.ip, s.tx.reversePath, to))
	s.spamLog("REFUSED", to, "Relay attempt to: "+to)
	if s.cfg.AllowRelay {
		s.reply(553, "5.7.1", "Relaying through this server requires authentication.  Please authenticate before sending.")
	} else {
		s.reply(550, "5.7.1", "Relay not allowed.")
	}
	s.quit = true
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

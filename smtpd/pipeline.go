package smtpd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/bbsmail/bbsmail/netutil"
)

// This file is the receive pipeline, in the order a client meets it:
//
//  1. accept: MaxClients, MaxConnsPerIP (Server.admit)
//  2. implicit TLS handshake on port 465
//  3. reverse DNS of the client
//  4. connection checks: ip-silent.can, temporary ban, spamblock.cfg,
//     ip.can, host.can (filters.go, netutil.Screen), then the DNSBL lookup
//     (dnsbl.go); smtpspy.can on the client starts the spy log (spy.go)
//  5. throttle delay for clients with failed logins (guard.go), greeting
//  6. commands, each line counted by the rate limit (guard.go): HELO/EHLO,
//     STARTTLS, AUTH (commands.go, auth.go). Every line a DNS-listed
//     client sends waits first with DNSBL_THROTTLE (spam.go).
//  7. MAIL: sender checks, email.can, DNSBL-exempt sender, smtpspy.can
//  8. RCPT: MaxRecipients, smtpspy.can, spam bait with its spamblock.cfg
//     entry (spam.go, spamblock.go), email.can, DNSBL_BADUSER, resolve,
//     relay rule
//  9. DATA: read with limits (data.go), twitlist.cfg, header checks
//     (subject.can, email.can on From and To), SPF/DKIM/DMARC verdict
//     and rules (mailauth.go), DNSBL_CHKRECVHDRS (recvhdrs.go), DNSBL
//     ignore or tag, spam hash database and spam bait
//     drop (spam.go), mail processors (mailproc.go), Received trace,
//     Deliver, 250, notify
//
// Every stage answers with an error that replyFor turns into the reply:
// command handlers return it and command sends it (commands.go), the
// server's own replies are named in replies.go, and the 250 after DATA is
// built in finish only after Deliver returned nil.

// serve runs one session from greeting to close. A panic ends only this
// session: it is logged with its stack and the client gets a 421.
func (s *session) serve() {
	defer s.cancel()
	defer s.closeSpy()
	// s.nc changes at STARTTLS: close whichever is current at the end, so a
	// TLS session ends with close_notify (RFC 8446 §6.1).
	defer func() { _ = s.nc.Close() }()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error(fmt.Sprintf("SMTP %s [%s] panic: %v", s.host, s.ip, r), "stack", string(debug.Stack()))
			s.werr = nil
			s.send(replyPanic(s.cfg.HostName))
			_ = s.flush()
		}
	}()
	s.log.Info(fmt.Sprintf("SMTP connection accepted from: %s port %d", s.ip, netutil.AddrPort(s.conn.RemoteAddr())),
		"port", s.port, "mode", s.mode.String())

	if s.mode == SubmissionTLS { // 2
		if err := s.handshake(); err != nil {
			s.logTLSFailure(err)
			return
		}
	}
	s.lookupHost()                            // 3
	if err := s.connectChecks(); err != nil { // 4
		if !errors.Is(err, errSilentClose) {
			s.send(s.replyFor(err))
			_ = s.flush()
		}
		return
	}
	// 4, last: smtpspy.can on the client's address and name (spy.go)
	s.spyOn("client "+s.ip, "", s.ip, s.clientHost())
	if !s.throttle() { // 5
		s.send(replyShuttingDown)
		_ = s.flush()
		return
	}
	s.send(replyGreeting(s.cfg.HostName, s.protocol(), s.cfg.Version))
	s.commandLoop() // 6-9
	_ = s.flush()
	s.log.Info(fmt.Sprintf("SMTP %s [%s] session ended", s.host, s.ip))
}

// handshake runs the TLS handshake under the inactivity limit.
func (s *session) handshake() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.MaxInactivity)
	defer cancel()
	s.conn.lineStart() // the handshake gets a whole inactivity window
	tc, ok := s.nc.(interface {
		HandshakeContext(context.Context) error
	})
	if !ok {
		return errors.New("not a TLS connection")
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	return nil
}

// lookupHost finds the client's forward-confirmed host name; it stays
// "<no name>" when there is none.
func (s *session) lookupHost() {
	if s.cfg.NoHostLookup {
		return
	}
	h, claimed := netutil.LookupHost(s.ctx, s.ip, s.cfg.MaxInactivity, s.cfg.LookupAddr, s.cfg.LookupHost)
	if h == "" {
		if claimed != "" {
			s.log.Debug(fmt.Sprintf("SMTP [%s] hostname %s does not resolve back to the client: ignored", s.ip, claimed))
		}
		return
	}
	s.host = h
	s.log.Debug(fmt.Sprintf("SMTP [%s] hostname: %s", s.ip, s.host))
}

// commandLoop reads and answers commands until QUIT, a disconnect, an
// idle timeout, shutdown or a reply that closes the session.
func (s *session) commandLoop() {
	for !s.quit {
		line, err := s.readLine(maxCommandLine)
		if err == nil || errors.Is(err, errLineTooLong) {
			if over := s.overRateLimit(); over != nil {
				s.answer(over)
				return
			}
		}
		if errors.Is(err, errLineTooLong) {
			s.answer(replyLineTooLong)
			continue
		}
		if err != nil {
			s.answer(s.readFailed(err))
			return
		}
		s.command(string(line))
	}
}

// readFailed ends the session after a failed read and returns the reply
// that tells the client why, or nil when it is gone.
func (s *session) readFailed(err error) error {
	s.quit = true
	switch {
	case errors.Is(err, errStopped):
		return replyShuttingDown
	case isTimeout(err):
		s.log.Info(fmt.Sprintf("SMTP %s [%s] inactive for %s, disconnecting", s.host, s.ip, s.cfg.MaxInactivity))
		return replyIdle(s.cfg.HostName)
	case isClosed(err):
		s.log.Debug(fmt.Sprintf("SMTP %s [%s] disconnected", s.host, s.ip))
	default:
		s.log.Info(fmt.Sprintf("SMTP %s [%s] read error: %v", s.host, s.ip, err))
	}
	return nil
}

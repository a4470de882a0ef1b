package smtpd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// This file connects the session to the process-wide failed-login tracker
// and rate limiter (Deps.Guard, Deps.RateLimit): the throttle delay, the
// ban of a client banned since it connected, failed and successful AUTH,
// and the per-command rate limit. The temporary ban before the greeting is
// one of the connection checks (filters.go).
//
// Who is spared: the server's own address (a client whose IP is the local
// address of the connection) is never banned or throttled, though its
// failures are still reported, as Synchronet does; clients in
// ipfilter_exempt.cfg (Config.IPFilterExempt) escape bans, throttling and
// the rate limit. The own address is NOT spared the rate limit.

// protocol is the name the session gives itself in logs and hack.log.
func (s *session) protocol() string {
	if s.mode == SubmissionTLS {
		return "SMTPS"
	}
	return "SMTP"
}

// errBanned fails a login from a client banned since it connected: with
// many connections opened before the ban, it must not keep guessing.
var errBanned = errors.New("client temporarily banned for failed logins")

// bannedNow reports a ban that began after the client connected (the own
// address and ipfilter_exempt.cfg are never banned); its credentials are
// then not even checked.
func (s *session) bannedNow() bool {
	if s.deps.Guard == nil || s.own || s.exempt {
		return false
	}
	left, why := s.deps.Guard.Banned(s.ip)
	if left <= 0 {
		return false
	}
	s.log.Warn(fmt.Sprintf("%s [%s] !TEMPORARY BAN (%s) - remaining: %s, login refused",
		s.protocol(), s.ip, why, left.Round(time.Second)))
	return true
}

// throttle holds the greeting back from a client with failed logins,
// attempts × LoginAttemptThrottle but at most MaxInactivity. It reports
// false when the server started shutting down meanwhile.
func (s *session) throttle() bool {
	wait, n := s.screen().Delay(s.client(), s.exempt, s.cfg.MaxInactivity)
	if wait <= 0 {
		return true
	}
	s.log.Info(fmt.Sprintf("%s Throttling suspicious connection from: %s (%d login attempts) for %s",
		s.protocol(), s.ip, n, wait))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
	case <-s.srv.stopping:
	}
	return false
}

// authAttempt is what the session knows of the AUTH exchange under way,
// for the tracker. tried is cleared as soon as it has been reported.
type authAttempt struct {
	mech        string
	tried       string // the password, or the CRAM-MD5 digest
	digest      bool
	hasPassword bool // the account has a non-empty password
	// done ends the client address's password check in the guard
	// (LoginGuard.Checking); nil when none is held.
	done func()
}

// endAttempt forgets the attempt, ending its hold on the address's
// password check.
func (s *session) endAttempt() {
	if s.authTry.done != nil {
		s.authTry.done()
	}
	s.authTry = authAttempt{}
}

// beginCheck runs before credentials are checked: it waits for any other
// check from the client's address to end (LoginGuard.Checking), then
// refuses a client banned meanwhile. One check per address at a time, each
// seeing the failures reported before it, is what keeps connections opened
// ahead of time from running more guesses than the ban threshold.
func (s *session) beginCheck(ctx context.Context) error {
	if s.deps.Guard != nil && !s.own && !s.exempt && s.authTry.done == nil {
		done, err := s.deps.Guard.Checking(ctx, s.ip)
		if err != nil {
			// The previous check from the address did not end in time:
			// the client may try again.
			return envelope.AuthTemporary(err)
		}
		s.authTry.done = done
	}
	if s.bannedNow() {
		return authError(errBanned)
	}
	return nil
}

// loginFailed reports a failed AUTH to the tracker, then lets the next
// check from the address begin.
func (s *session) loginFailed() {
	a := s.authTry
	defer s.endAttempt()
	if s.deps.Guard == nil {
		return
	}
	s.deps.Guard.Failed(envelope.LoginAttempt{
		Protocol: s.protocol(),
		IP:       s.ip,
		Port:     netutil.AddrPort(s.conn.RemoteAddr()),
		Host:     s.clientHost(),
		User:     s.authLogin,
		Method:   a.mech,
		Password: a.tried,
		Digest:   a.digest,
		Local:    s.own,
	})
}

// loginSucceeded clears the client's failures, as Synchronet does when
// the user has a password (an account without one proves nothing).
func (s *session) loginSucceeded() {
	a := s.authTry
	defer s.endAttempt()
	if s.deps.Guard != nil && a.hasPassword {
		s.deps.Guard.Succeeded(s.ip)
	}
}

// overRateLimit counts one command line against the rate limit. Over the
// limit it returns the 421 that disconnects the client.
func (s *session) overRateLimit() error {
	if s.deps.RateLimit == nil || s.exempt || s.deps.RateLimit.Allow(s.ip) {
		return nil
	}
	s.log.Warn(fmt.Sprintf("%s %s [%s] !Too many requests per rate limit, disconnecting", s.protocol(), s.host, s.ip))
	return replyTooManyRequests
}

package pop3d

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// This file holds what happens between accepting a connection and the
// greeting, in Synchronet's order: the client's host name, ip-silent.can,
// a temporary ban for failed logins, ip.can and host.can, and the throttle
// delay; and the reports to the failed-login tracker and the rate limit.
//
// Who is spared: clients in ipfilter_exempt.cfg (Config.Exempt) skip
// everything here; loopback clients (Config.Loopback) skip the filter
// lists, as on the SMTP ports; the server's own address (a client whose IP
// is the connection's local address) is never banned or throttled, though
// its failures are reported, but it is rate-limited like anyone.

// errAccessDenied is Synchronet's answer to a banned or filtered client.
var errAccessDenied = &replyError{Text: "Access denied.", Close: true}

// lookupHost finds the client's forward-confirmed host name; it stays ""
// when there is none.
func (s *session) lookupHost() {
	if s.cfg.NoHostLookup {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.MaxInactivity, 30*time.Second))
	defer cancel()
	h, claimed := netutil.ConfirmedHost(ctx, s.ip, s.cfg.LookupAddr, s.cfg.LookupHost)
	if h == "" && claimed != "" {
		s.log.Debug(fmt.Sprintf("POP3 [%s] hostname %s does not resolve back to the client: ignored", s.ip, claimed))
	}
	s.host = h
}

// errSilent closes the connection without a reply (ip-silent.can).
var errSilent = errors.New("client silently refused")

// connectChecks refuses a client before the greeting.
func (s *session) connectChecks() error {
	s.exempt = s.cfg.Exempt != nil && s.cfg.Exempt.Match(nonEmpty(s.ip, s.host)...)
	if s.exempt {
		return nil
	}
	local := false
	if ip := net.ParseIP(s.ip); ip != nil {
		local = s.cfg.Loopback(ip)
	}
	if !local && listed(s.cfg.IPSilent, s.ip) {
		s.log.Info(fmt.Sprintf("%s !CLIENT IP ADDRESS BLOCKED SILENTLY: %s (ip-silent.can)", s.proto, s.ip))
		return errSilent
	}
	if g := s.srv.deps.Guard; g != nil && !s.own {
		if left, why := g.Banned(s.ip); left > 0 {
			s.log.Warn(fmt.Sprintf("%s [%s] !TEMPORARY BAN (%s) - remaining: %s", s.proto, s.ip, why, left.Round(time.Second)))
			return errAccessDenied
		}
	}
	if local {
		return nil
	}
	if listed(s.cfg.IPFilter, s.ip) {
		s.log.Warn(fmt.Sprintf("%s [%s] !CLIENT BLOCKED in ip.can", s.proto, s.ip))
		return errAccessDenied
	}
	if s.host != "" && listed(s.cfg.HostFilter, s.host) {
		s.log.Warn(fmt.Sprintf("%s [%s] !CLIENT BLOCKED in host.can: %s", s.proto, s.ip, s.host))
		return errAccessDenied
	}
	return nil
}

func listed(m Matcher, s string) bool { return m != nil && m.Match(s) }

func nonEmpty(s ...string) []string {
	out := s[:0:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// throttle holds the greeting back from a client with failed logins,
// attempts × LoginAttemptThrottle but at most MaxInactivity; Shutdown cuts
// it short.
func (s *session) throttle() {
	g := s.srv.deps.Guard
	if g == nil || s.own || s.exempt {
		return
	}
	wait, n := g.Throttle(s.ip)
	if wait <= 0 {
		return
	}
	wait = min(wait, s.cfg.MaxInactivity)
	s.log.Info(fmt.Sprintf("%s Throttling suspicious connection from: %s (%d login attempts) for %s", s.proto, s.ip, n, wait))
	s.pause(wait)
}

// credentials is one login attempt as the client made it.
type credentials struct {
	method string // "USER/PASS" or "APOP"
	name   string // as given, "#nospam" included
	tried  string // the password, or the APOP digest
	digest bool
}

// loginFailed reports a failed login to the tracker.
func (s *session) loginFailed(c credentials, login string) {
	g := s.srv.deps.Guard
	if g == nil {
		return
	}
	port := 0
	if a, ok := s.raw.RemoteAddr().(*net.TCPAddr); ok {
		port = a.Port
	}
	g.Failed(envelope.LoginAttempt{
		Protocol: s.proto, IP: s.ip, Port: port, Host: s.host, User: login,
		Method: c.method, Password: c.tried, Digest: c.digest, Local: s.own,
	})
}

// allowRequest counts one TRANSACTION-state command against the rate
// limit (Synchronet counts those only); over it the session ends.
func (s *session) allowRequest() error {
	r := s.srv.deps.RateLimit
	if r == nil || s.exempt || s.state != stateTrans || r.Allow(s.ip) {
		return nil
	}
	s.log.Warn(fmt.Sprintf("%s [%s] !Too many requests per rate limit, disconnecting", s.proto, s.ip), "user", s.ident.Alias)
	return &replyError{Text: "[SYS/TEMP] Too many requests, try again later", Close: true}
}

// bannedNow reports a ban that began after the client connected.
func (s *session) bannedNow() bool {
	g := s.srv.deps.Guard
	if g == nil || s.own || s.exempt {
		return false
	}
	left, why := g.Banned(s.ip)
	if left <= 0 {
		return false
	}
	s.log.Warn(fmt.Sprintf("%s [%s] !TEMPORARY BAN (%s) - remaining: %s, login refused", s.proto, s.ip, why, left.Round(time.Second)))
	return true
}

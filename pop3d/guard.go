package pop3d

import (
	"errors"
	"fmt"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// This file holds what happens between accepting a connection and the
// greeting, in Synchronet's order (netutil.Screen, shared with SMTP): the
// client's host name, ip-silent.can, a temporary ban for failed logins,
// ip.can and host.can, and the throttle delay; and the reports to the
// failed-login tracker and the rate limit.
//
// Who is spared: clients in ipfilter_exempt.cfg (Config.IPFilterExempt) skip
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
	h, claimed := netutil.LookupHost(s.ctx, s.ip, s.cfg.MaxInactivity, s.cfg.LookupAddr, s.cfg.LookupHost)
	if h == "" && claimed != "" {
		s.log.Debug(fmt.Sprintf("POP3 [%s] hostname %s does not resolve back to the client: ignored", s.ip, claimed))
	}
	s.host = h
}

// errSilent closes the connection without a reply (ip-silent.can).
var errSilent = errors.New("client silently refused")

// client is what the connection checks know of the client.
func (s *session) client() netutil.Client {
	return netutil.Client{IP: s.ip, Host: s.host, Local: s.local, Own: s.own}
}

// screen is the connection checks POP3 shares with SMTP, over this
// session's lists (POP3 has no spamblock.cfg).
func (s *session) screen() *netutil.Screen {
	return &netutil.Screen{
		Exempt: s.cfg.IPFilterExempt, Silent: s.cfg.IPSilent,
		IPFilter: s.cfg.IPFilter, HostFilter: s.cfg.HostFilter,
		Guard: s.srv.deps.Guard,
	}
}

// connectChecks refuses a client before the greeting, in Synchronet's
// order (netutil.Screen.Check), with Synchronet's POP3 words.
func (s *session) connectChecks() error {
	v := s.screen().Check(s.client())
	s.exempt = v.Exempt
	switch v.Refusal {
	case netutil.Silenced:
		s.log.Info(fmt.Sprintf("%s !CLIENT IP ADDRESS BLOCKED SILENTLY: %s (ip-silent.can)", s.proto, s.ip))
		return errSilent
	case netutil.Banned:
		s.log.Warn(fmt.Sprintf("%s [%s] !TEMPORARY BAN (%s) - remaining: %s", s.proto, s.ip, v.BanWhy, v.BanLeft.Round(time.Second)))
		return errAccessDenied
	case netutil.IPBlocked:
		s.log.Warn(fmt.Sprintf("%s [%s] !CLIENT BLOCKED in ip.can", s.proto, s.ip))
		return errAccessDenied
	case netutil.HostBlocked:
		s.log.Warn(fmt.Sprintf("%s [%s] !CLIENT BLOCKED in host.can: %s", s.proto, s.ip, s.host))
		return errAccessDenied
	}
	return nil
}

// throttle holds the greeting back from a client with failed logins,
// attempts × LoginAttemptThrottle but at most MaxInactivity; Shutdown cuts
// it short.
func (s *session) throttle() {
	wait, n := s.screen().Delay(s.client(), s.exempt, s.cfg.MaxInactivity)
	if wait <= 0 {
		return
	}
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
	g.Failed(envelope.LoginAttempt{
		Protocol: s.proto, IP: s.ip, Port: netutil.AddrPort(s.raw.RemoteAddr()), Host: s.host, User: login,
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

package netutil

import (
	"context"
	"net"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// NoName is how a client without a forward-confirmed host name is shown
// in logs and trace fields, as Synchronet shows it. The host itself is ""
// then, so no list ever matches "<no name>".
const NoName = "<no name>"

// Client is what the checks before the greeting know of a client.
type Client struct {
	IP string
	// Host is the forward-confirmed host name; "" when there is none.
	Host string
	// Local is set when the server counts the client as on loopback (the
	// protocols' Config.Loopback): it skips the sysop's filter lists, so
	// the BBS itself is never locked out.
	Local bool
	// Own is set when the client connected from the address it connected
	// to (the server's own address): it is never banned or throttled.
	Own bool
}

// NewClient describes the client of connection c, with local deciding
// which addresses count as loopback. Its Host is filled in by LookupHost.
func NewClient(c net.Conn, local func(net.IP) bool) Client {
	cl := Client{IP: AddrIP(c.RemoteAddr())}
	if ip := net.ParseIP(cl.IP); ip != nil && local != nil {
		cl.Local = local(ip)
	}
	cl.Own = SameIP(cl.IP, AddrIP(c.LocalAddr()))
	return cl
}

// OwnHost reports whether the client is the server's own host for
// spamblock.cfg, which spares only that: it connected from the address it
// connected to, and a loopback address counts only while it is Local, so
// tests may play a stranger from 127.0.0.1.
func (c Client) OwnHost() bool {
	if !c.Own {
		return false
	}
	ip := net.ParseIP(c.IP)
	return c.Local || ip == nil || !ip.IsLoopback()
}

// LookupHost finds the client's forward-confirmed host name
// (ConfirmedHost) within min(idle, 30 s); see ConfirmedHost for claimed.
func LookupHost(ctx context.Context, ip string, idle time.Duration,
	lookupAddr, lookupHost func(context.Context, string) ([]string, error)) (host, claimed string) {
	ctx, cancel := context.WithTimeout(ctx, min(idle, 30*time.Second))
	defer cancel()
	return ConfirmedHost(ctx, ip, lookupAddr, lookupHost)
}

// BanGuard is what the checks ask the process's failed-login tracker.
type BanGuard interface {
	// Banned reports a temporary ban of ip: the time left (0 = none) and,
	// for the log, why.
	Banned(ip string) (remaining time.Duration, why string)
	// Throttle returns how long a new connection from ip waits before the
	// greeting, and the failed attempts behind it.
	Throttle(ip string) (wait time.Duration, attempts int)
}

// Screen is the checks before the greeting that SMTP and POP3 share, over
// the sysop's lists. A nil list is an empty one; a nil Guard bans and
// throttles nobody.
type Screen struct {
	Exempt     envelope.Matcher // ctrl/ipfilter_exempt.cfg, IP or host
	Silent     envelope.Matcher // text/ip-silent.can, IP
	IPFilter   envelope.Matcher // text/ip.can, IP
	HostFilter envelope.Matcher // text/host.can, host
	// SpamBlock (ctrl/spamblock.cfg, IP) unless SpamBlockExempt
	// (ctrl/spamblock_exempt.cfg, IP or host) lists the client; SMTP's
	// only.
	SpamBlock, SpamBlockExempt envelope.Matcher
	Guard                      BanGuard
}

// Refusal is why the checks turn a client away; each protocol answers it
// in its own words.
type Refusal int

const (
	// Pass: no check refused the client.
	Pass Refusal = iota
	// Silenced: text/ip-silent.can; close without a word.
	Silenced
	// Banned: a temporary ban for failed logins (Screening.BanLeft,
	// Screening.BanWhy).
	Banned
	// SpamBlocked: ctrl/spamblock.cfg.
	SpamBlocked
	// IPBlocked: text/ip.can.
	IPBlocked
	// HostBlocked: text/host.can.
	HostBlocked
)

// Screening is the outcome of Screen.Check.
type Screening struct {
	Refusal Refusal
	// Exempt: the client is in ipfilter_exempt.cfg (by IP or host) and
	// skipped every check; it also escapes the throttle delay, the rate
	// limit and, in SMTP, the DNSBL lookup.
	Exempt bool
	// BanLeft and BanWhy describe a temporary ban.
	BanLeft time.Duration
	BanWhy  string
}

// Check runs the checks in Synchronet's order: ip-silent.can (checked at
// accept in Synchronet, so before the ban), the temporary ban,
// spamblock.cfg, ip.can, host.can. Clients in ipfilter_exempt.cfg skip
// them all; Local clients skip the three .can lists; the ban spares Own
// clients, and spamblock.cfg only the OwnHost.
func (sc *Screen) Check(c Client) Screening {
	if Listed(sc.Exempt, c.IP, c.Host) {
		return Screening{Exempt: true}
	}
	if !c.Local && Listed(sc.Silent, c.IP) {
		return Screening{Refusal: Silenced}
	}
	if sc.Guard != nil && !c.Own {
		if left, why := sc.Guard.Banned(c.IP); left > 0 {
			return Screening{Refusal: Banned, BanLeft: left, BanWhy: why}
		}
	}
	if !c.OwnHost() && Listed(sc.SpamBlock, c.IP) && !Listed(sc.SpamBlockExempt, c.IP, c.Host) {
		return Screening{Refusal: SpamBlocked}
	}
	switch {
	case c.Local:
	case Listed(sc.IPFilter, c.IP):
		return Screening{Refusal: IPBlocked}
	case Listed(sc.HostFilter, c.Host):
		return Screening{Refusal: HostBlocked}
	}
	return Screening{}
}

// Delay is the throttle before the greeting for a client with failed
// logins: attempts × LoginAttemptThrottle (the Guard's), at most limit.
// Own and exempt clients never wait.
func (sc *Screen) Delay(c Client, exempt bool, limit time.Duration) (wait time.Duration, attempts int) {
	if sc.Guard == nil || c.Own || exempt {
		return 0, 0
	}
	wait, attempts = sc.Guard.Throttle(c.IP)
	return min(wait, limit), attempts
}

// Listed reports whether m matches any of the non-empty strings. A nil
// list is empty, and "" (no host name) is never checked, so a list
// holding only "!x" does not match a client without a name.
func Listed(m envelope.Matcher, s ...string) bool {
	if m == nil {
		return false
	}
	vals := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" {
			vals = append(vals, v)
		}
	}
	return len(vals) > 0 && m.Match(vals...)
}

package guard

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
)

// logTimeLayout is the date in hack.log entries, as in spam.log.
const logTimeLayout = "Mon Jan 02 2006 15:04:05"

// noName stands for a client without a host name, as Synchronet writes it.
const noName = "<no name>"

// hackLog appends one entry to logs/hack.log in Synchronet's layout: CRLF
// line ends and a blank line after the entry. Where Synchronet writes the
// password that was tried on the "Details:" line, this writes only its
// length: a password never reaches a disk.
func (g *Guard) hackLog(s *Settings, a envelope.LoginAttempt, now time.Time) {
	s.Logger.Warn(fmt.Sprintf("%s [%s] !SUSPECTED LOGIN HACK ATTEMPT for user '%s' (hack.log)", a.Protocol, a.IP, a.User))
	if s.HackLog == "" {
		return
	}
	host := a.Host
	if host == "" {
		host = noName
	}
	entry := fmt.Sprintf("SUSPECTED %s LOGIN HACK ATTEMPT for user '%s' on %s\r\n"+
		"Using port %d at %s [%s]\r\n"+
		"Details: %s\r\n\r\n",
		a.Protocol, oneLine(a.User), now.Format(logTimeLayout), a.Port, oneLine(host), a.IP, details(a))
	g.fileMu.Lock()
	defer g.fileMu.Unlock()
	f, err := os.OpenFile(s.HackLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		s.Logger.Error(fmt.Sprintf("!cannot open the hack log: %v", err))
		return
	}
	if _, err := f.WriteString(entry); err != nil {
		s.Logger.Error(fmt.Sprintf("!cannot write the hack log: %v", err))
	}
	if err := f.Close(); err != nil {
		s.Logger.Error(fmt.Sprintf("!cannot close the hack log: %v", err))
	}
}

// details describes what was tried without revealing it.
func details(a envelope.LoginAttempt) string {
	what := "password of " + plural(len(a.Password), "character")
	if a.Digest {
		what = "digest response (password not sent)"
	}
	if a.Method != "" {
		what = a.Method + " " + what
	}
	return what
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// oneLine keeps client-supplied text from breaking a log entry apart.
func oneLine(s string) string {
	return envelope.LogText(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// filter adds the client to text/ip.can (Synchronet's filter_ip): unless
// ipfilter_exempt.cfg lists its address or host name, or an entry in force
// already matches the address. The line carries t=, p=, r=, e= (when
// FilterDuration is set), u= and h= metadata.
func (g *Guard) filter(s *Settings, a envelope.LoginAttempt, n int, span time.Duration, now time.Time) {
	if s.IPFilter == nil {
		return
	}
	if s.IPFilterExempt != nil && s.IPFilterExempt.Match(nonEmpty(a.IP, a.Host)...) {
		return
	}
	g.fileMu.Lock()
	defer g.fileMu.Unlock()
	if _, listed := s.IPFilter.Lookup(now, a.IP); listed {
		return
	}
	m := pattern.Meta{
		Added:    now,
		Protocol: a.Protocol,
		Reason:   fmt.Sprintf("%d FAILED LOGIN ATTEMPTS in %s", n, estimate(span)),
		User:     a.User,
		Host:     a.Host,
	}
	if s.FilterDuration > 0 {
		m.Expires = now.Add(s.FilterDuration)
	}
	if err := s.IPFilter.Append(pattern.FormatLine(a.IP, m)); err != nil {
		s.Logger.Error(fmt.Sprintf("%s !cannot add %s to %s: %v", a.Protocol, a.IP, s.IPFilter.Path(), err))
		return
	}
	s.Logger.Warn(fmt.Sprintf("%s !BLOCKING IP ADDRESS: %s in %s", a.Protocol, a.IP, s.IPFilter.Path()))
}

// rateFilter adds a rate-limit offender to ip.can (or ip-silent.can) once
// its bucket was refused RateFilterThreshold times, as Synchronet's
// rate_limit_filter: the whole subnet only when enough of its addresses
// offended, otherwise the address alone.
func (g *Guard) rateFilter(s *Settings, v verdict, protocol string) {
	if s.RateFilterThreshold <= 0 || v.denials < s.RateFilterThreshold {
		return
	}
	file, where := s.IPFilter, " in ip.can"
	if s.RateFilterSilent {
		file, where = s.IPSilentFilter, ""
	}
	if file == nil || s.IPFilterExempt != nil && s.IPFilterExempt.Match(v.addr) {
		return
	}
	target, what := v.key, "SUBNET"
	reason := fmt.Sprintf("%d rate-limit violations from %d IPs", v.denials, v.distinct)
	if v.key == v.addr || v.distinct < max(1, s.RateFilterSubnetThreshold) {
		target, what = v.addr, "IP ADDRESS"
		reason = fmt.Sprintf("%d rate-limit violations", v.denials)
	}
	now := g.now()
	g.fileMu.Lock()
	defer g.fileMu.Unlock()
	// An entry in force that covers the client (its address or a subnet)
	// already does the job; a CIDR target cannot be looked up itself.
	if _, listed := file.Lookup(now, v.addr); listed {
		return
	}
	m := pattern.Meta{Added: now, Protocol: protocol, Reason: reason}
	if s.RateFilterDuration > 0 {
		m.Expires = now.Add(s.RateFilterDuration)
	}
	if err := file.Append(pattern.FormatLine(target, m)); err != nil {
		s.Logger.Error(fmt.Sprintf("%s !cannot add %s to %s: %v", protocol, target, file.Path(), err))
		return
	}
	silently := ""
	if s.RateFilterSilent {
		silently = " (silently)"
	}
	notice(s.Logger, fmt.Sprintf("%s !BLOCKING %s%s: %s%s", protocol, what, silently, target, where))
}

func nonEmpty(s ...string) []string {
	out := s[:0:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// estimate prints a duration the short way Synchronet's logs and ip.can
// reasons do: whole seconds below a minute ("42s"), else one decimal in
// the largest unit that fits, with a trailing ".0" dropped ("1.5m", "2h",
// "3.2d", "1y").
func estimate(d time.Duration) string {
	sec := d.Seconds()
	if sec < 0 {
		sec = 0
	}
	const (
		minute = 60.0
		hour   = 60 * minute
		day    = 24 * hour
		year   = 365 * day
	)
	for _, u := range []struct {
		size float64
		suf  string
	}{{year, "y"}, {day, "d"}, {hour, "h"}, {minute, "m"}} {
		if sec >= u.size {
			v := strconv.FormatFloat(sec/u.size, 'f', 1, 64)
			return strings.TrimSuffix(v, ".0") + u.suf
		}
	}
	return strconv.FormatFloat(float64(int64(sec)), 'f', -1, 64) + "s"
}

// notice logs at Notice, between Info and Warning as syslog has it (the
// level the servers' own Notice lines use).
func notice(l *slog.Logger, msg string) { l.Log(context.Background(), slog.LevelInfo+2, msg) }

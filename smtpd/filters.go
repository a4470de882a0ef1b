package smtpd

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// This file holds Synchronet's static filter lists: the connection checks
// (ip-silent.can, spamblock.cfg, ip.can, host.can), email.can on MAIL, RCPT
// and the From and To headers, subject.can and twitlist.cfg.

// errSilentClose ends a session before the greeting without any reply
// (ip-silent.can): the client learns nothing, not even that it is refused.
var errSilentClose = errors.New("client silently refused")

// listed reports whether m matches any of the non-empty strings
// (netutil.Listed): a list holding only "!x" matches everything but x, and
// should not refuse a message for a header it does not have.
func listed(m Matcher, s ...string) bool { return netutil.Listed(m, s...) }

// clientHost is the client's forward-confirmed host name, or "" when it has
// none, so "<no name>" never matches a list.
func (s *session) clientHost() string {
	if s.host == netutil.NoName {
		return ""
	}
	return s.host
}

// client is what the connection checks know of the client.
func (s *session) client() netutil.Client {
	return netutil.Client{IP: s.ip, Host: s.clientHost(), Local: s.loopback, Own: s.own}
}

// screen is the connection checks SMTP shares with POP3, over this
// session's lists.
func (s *session) screen() *netutil.Screen {
	return &netutil.Screen{
		Exempt: s.cfg.IPFilterExempt, Silent: s.cfg.IPSilent,
		SpamBlock: s.cfg.SpamBlock, SpamBlockExempt: s.cfg.SpamBlockExempt,
		IPFilter: s.cfg.IPFilter, HostFilter: s.cfg.HostFilter,
		Guard: s.deps.Guard,
	}
}

// connectChecks refuses a client before the greeting, in Synchronet's
// order (netutil.Screen.Check): ip-silent.can, a temporary ban for failed
// logins (silent close, as Synchronet does: the client learns nothing),
// spamblock.cfg (unless spamblock_exempt.cfg), ip.can, host.can, then the
// DNSBL lookup (dnsbl.go). Clients in ipfilter_exempt.cfg skip them all.
// Clients on loopback skip the lists the sysop writes and the DNSBL
// lookup; spamblock.cfg, which spam bait fills automatically, spares only
// the server's own address, as in Synchronet, so another address on
// loopback that took bait is blocked like any client. The ban spares only
// the server's own address and ipfilter_exempt.cfg.
func (s *session) connectChecks() error {
	ip, host := s.ip, s.clientHost()
	v := s.screen().Check(s.client())
	s.exempt = v.Exempt
	switch v.Refusal {
	case netutil.Silenced:
		s.log.Info(fmt.Sprintf("SMTP !CLIENT IP ADDRESS BLOCKED SILENTLY: %s (ip-silent.can)", ip))
		return errSilentClose
	case netutil.Banned:
		s.log.Warn(fmt.Sprintf("%s [%s] !TEMPORARY BAN (%s) - remaining: %s, closing silently",
			s.protocol(), ip, v.BanWhy, v.BanLeft.Round(time.Second)))
		return errSilentClose
	case netutil.SpamBlocked:
		s.log.Warn(fmt.Sprintf("SMTP !CLIENT IP ADDRESS BLOCKED: %s (spamblock.cfg)", ip))
		s.spamLogFrom("SESSION REFUSED", s.host, "", "Listed in spamblock.cfg: "+ip)
		return replyIPBlocked(ip)
	case netutil.IPBlocked:
		s.log.Warn(fmt.Sprintf("SMTP !CLIENT IP ADDRESS BLOCKED: %s (ip.can)", ip))
		return replyIPBlocked(ip)
	case netutil.HostBlocked:
		s.log.Warn(fmt.Sprintf("SMTP !CLIENT HOSTNAME BLOCKED: %s [%s] (host.can)", host, ip))
		return replyHostBlocked(host)
	}
	if s.exempt || s.loopback {
		return nil
	}
	return s.checkDNSBL()
}

// checkSourceAddr refuses an unauthenticated MAIL FROM listed in email.can
// and disconnects: a client sending from a blocked address has nothing
// else to say.
func (s *session) checkSourceAddr(path string) error {
	if s.auth != nil || !listed(s.cfg.EmailFilter, path, envelope.StripQuotes(path)) {
		return nil
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] BLOCKED SOURCE: %s", s.host, s.ip, path))
	s.spamLogFrom("REFUSED", path, "", "Blocked source e-mail address: "+path)
	return replySenderBlocked
}

// checkRcptAddr refuses an unauthenticated RCPT TO listed in email.can as
// an unknown user, so the list can't be probed.
func (s *session) checkRcptAddr(path, fp string) error {
	if s.auth != nil || !listed(s.cfg.EmailFilter, path, envelope.StripQuotes(path)) {
		return nil
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] BLOCKED RECIPIENT: %s from: %s", s.host, s.ip, path, angle(s.tx.reversePath)))
	s.spamLog("REFUSED", path, "Blocked recipient e-mail address: "+path)
	return envelope.UnknownUser(fp, envelope.ErrUnknownUser)
}

// checkTwit refuses mail and telegrams whose sender (From name or address,
// or the reverse path) is in twitlist.cfg, for every client: the sysop
// doesn't want to hear from that sender, however it logged in.
func (s *session) checkTwit(hdr headerInfo) error {
	if !listed(s.cfg.TwitList, hdr.fromName, hdr.from, s.tx.reversePath) {
		return nil
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] FILTERING TWIT-LISTED SENDER: '%s' <%s> (reverse path <%s>)",
		s.host, s.ip, hdr.fromName, hdr.from, s.tx.reversePath))
	return replySenderRefused
}

// checkHeaderLists applies subject.can and email.can to the header of a
// message from an unauthenticated client (Synchronet's end-of-data header
// checks, in its order).
func (s *session) checkHeaderLists(hdr headerInfo) error {
	if s.auth != nil {
		return nil
	}
	if listed(s.cfg.SubjectFilter, hdr.subject) {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] BLOCKED SUBJECT (%s) from: %s", s.host, s.ip, hdr.subject, angle(s.tx.reversePath)))
		s.spamLog("REFUSED", "", fmt.Sprintf("Blocked subject (%s) from: %s", hdr.subject, s.tx.reversePath))
		return replySubjectBlocked
	}
	if listed(s.cfg.EmailFilter, hdr.fromName, hdr.from) {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] BLOCKED SOURCE: '%s' <%s>", s.host, s.ip, hdr.fromName, hdr.from))
		s.spamLog("REFUSED", "", fmt.Sprintf("Blocked source e-mail address: '%s' <%s>", hdr.fromName, hdr.from))
		return replySenderRefused
	}
	// A message to bait is dropped after the header checks; refusing it
	// here would tell the sender which address is bait.
	if s.tx.bait {
		return nil
	}
	for _, to := range hdr.to {
		if listed(s.cfg.EmailFilter, to) {
			s.log.Warn(fmt.Sprintf("!SMTP %s [%s] BLOCKED RECIPIENT (To: %s) from: %s", s.host, s.ip, to, angle(s.tx.reversePath)))
			s.spamLog("REFUSED", to, "Blocked recipient e-mail address in the To header: "+to)
			return replyToBlocked
		}
	}
	return nil
}

// headerAddrs returns the display names and addresses of an address-list
// field such as To (RFC 5322 §3.4), RFC 2047 words decoded; a value that
// does not parse is returned whole, so a list can still match it.
func headerAddrs(v []byte) []string {
	raw := strings.TrimSpace(string(v))
	if raw == "" {
		return nil
	}
	list, err := mail.ParseAddressList(raw)
	if err != nil {
		return []string{cleanArg(raw)}
	}
	out := make([]string, 0, 2*len(list))
	for _, a := range list {
		if a.Name != "" {
			out = append(out, cleanArg(a.Name))
		}
		out = append(out, a.Address)
	}
	return out
}

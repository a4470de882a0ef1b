package smtpd

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// This file is the DNSBL policy: the lookup before the greeting, the
// exempt sender, DNSBL_BADUSER at RCPT and, at the end of DATA,
// DNSBL_CHKRECVHDRS (recvhdrs.go) and DNSBL_IGNORE or tagging.
// DNSBL_THROTTLE and DNSBL_SPAMHASH are in spam.go. The lookups themselves
// belong to Config.DNSBL.

// dnsblListing is a DNSBL verdict; list is "" when nothing is listed (or
// the listing was cleared).
type dnsblListing struct {
	list   string // the whole dns_blacklist.cfg line
	answer string // the list's A record
	ip     string // the address listed: the client's, or one a Received header names
	// received is set for an address found in a Received header field
	// (DNSBL_CHKRECVHDRS); such a listing applies to one message.
	received bool
}

// reason is the spam.log reason of a listing.
func (l dnsblListing) reason() string {
	r := fmt.Sprintf("Listed on %s as %s", l.list, l.answer)
	if l.received {
		r += fmt.Sprintf(" (%s, named in a Received header)", l.ip)
	}
	return r
}

// dnsblListed reports whether the session is treated as coming from a
// listed client: authenticated sessions never are.
func (s *session) dnsblListed() bool { return s.dnsbl.list != "" && s.auth == nil }

// checkDNSBL looks the client up, after the static connection checks
// (which already let loopback and ipfilter_exempt.cfg clients through).
func (s *session) checkDNSBL() error {
	if s.cfg.DNSBL == nil || listed(s.cfg.DNSBLExempt, s.ip, s.clientHost()) {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.MaxInactivity, 30*time.Second))
	defer cancel()
	found, list, answer, err := s.cfg.DNSBL.Check(ctx, s.ip)
	if err != nil {
		// A broken or refusing list is the sysop's to fix; the client is
		// neither punished nor excused for it.
		s.log.Info(fmt.Sprintf("SMTP %s [%s] DNSBL lookup problem: %v", s.host, s.ip, err))
	}
	if !found {
		return nil
	}
	s.dnsbl = dnsblListing{list: list, answer: answer, ip: s.ip}
	s.log.Warn(fmt.Sprintf("SMTP BLACKLISTED SERVER on %s: %s [%s] = %s", list, s.host, s.ip, answer))
	if !s.cfg.DNSBLRefuse {
		if s.cfg.DNSBLThrottle {
			s.log.Info(fmt.Sprintf("SMTP %s [%s] throttling blacklisted client: %s per line (DNSBL_THROTTLE)", s.host, s.ip, s.cfg.ThrottleDelay))
		}
		return nil
	}
	s.spamLogFrom("SESSION REFUSED", s.host, "", s.dnsbl.reason())
	return s.dnsblRefusal()
}

func (s *session) dnsblRefusal() *envelope.Reply {
	return replyListed(s.ip, s.dnsbl.list)
}

// dnsblExemptSender clears a listing when the sender is in
// dnsbl_exempt.cfg: a correspondent the sysop vouches for is not to be
// tagged because of the server it happens to use.
func (s *session) dnsblExemptSender(addr string) {
	if s.dnsbl.list == "" || !s.exemptSender(addr) {
		return
	}
	s.log.Info(fmt.Sprintf("SMTP %s [%s] DNSBL-listed client sending as exempt <%s>: listing ignored", s.host, s.ip, addr))
	s.dnsbl = dnsblListing{}
}

// checkDNSBLRcpt is DNSBL_BADUSER: a listed client is refused at its first
// recipient and disconnected.
func (s *session) checkDNSBLRcpt(to string) error {
	if !s.cfg.DNSBLBadUser || !s.dnsblListed() {
		return nil
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] REFUSED MAIL from blacklisted server (%s) to %s", s.host, s.ip, s.dnsbl.list, to))
	s.spamLog("REFUSED", to, s.dnsbl.reason())
	return s.dnsblRefusal()
}

// exemptSender reports whether a sender address is in dnsbl_exempt.cfg
// (as "<address>" or the bare address).
func (s *session) exemptSender(addr string) bool {
	return addr != "" && listed(s.cfg.DNSBLExempt, "<"+addr+">", addr)
}

// dnsblMessage applies a listing to a message at the end of DATA: the
// client's, or with DNSBL_CHKRECVHDRS one of an address its Received
// header fields name. It reports drop when DNSBL_IGNORE says to accept and
// discard the message; otherwise it returns msg tagged (or unchanged when
// nothing is listed) and whether it was tagged as spam. DNSBL_REFUSE and
// DNSBL_BADUSER have refused a listed client before DATA; a listing found
// in the Received fields is tagged under them, as Synchronet does, since
// the client itself is not the one listed. The listing is kept in the
// transaction for DNSBL_SPAMHASH.
func (s *session) dnsblMessage(msg []byte, hdr headerInfo) (out []byte, spam, drop bool) {
	s.dnsblExemptSender(hdr.from)
	l := s.messageListing(hdr)
	if l.list == "" {
		return msg, false, false
	}
	s.tx.listing = l
	if s.cfg.DNSBLIgnore {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] IGNORED MAIL from blacklisted server (%s): %s", s.host, s.ip, l.list, angle(s.tx.reversePath)))
		s.spamLog("IGNORED", rcptList(s.tx.rcpts), l.reason())
		return msg, false, true
	}
	value := fmt.Sprintf("%s is listed on %s as %s", l.ip, l.list, l.answer)
	s.log.Info(fmt.Sprintf("SMTP %s [%s] TAGGED MAIL from blacklisted server (%s): %s", s.host, s.ip, l.list, angle(s.tx.reversePath)))
	s.spamLog("TAGGED", rcptList(s.tx.rcpts), l.reason())
	return tagMessage(msg, s.cfg.DNSBLHeader, value, s.cfg.DNSBLSubject), true, false
}

// messageListing is the listing that applies to the message being
// finished: none for an authenticated client, the client's own, else one
// found in the Received header fields unless the From address is exempt.
func (s *session) messageListing(hdr headerInfo) dnsblListing {
	switch {
	case s.auth != nil:
		return dnsblListing{}
	case s.dnsbl.list != "":
		return s.dnsbl
	case s.exemptSender(hdr.from) || s.exemptSender(s.tx.reversePath):
		return dnsblListing{}
	}
	return s.checkReceived(hdr)
}

// tagMessage adds the header field "name: value" at the top of msg and, if
// tag is not empty, puts "tag: " in front of the Subject (adding a Subject
// field of just the tag when there is none), so a reader's filters and
// eyes both see the verdict.
func tagMessage(msg []byte, name, value, tag string) []byte {
	out := make([]byte, 0, len(msg)+len(name)+len(value)+len(tag)+16)
	out = fmt.Appendf(out, "%s: %s\r\n", name, value)
	if tag == "" {
		return append(out, msg...)
	}
	pos := 0
	for pos < len(msg) {
		line, end := lineAt(msg, pos)
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // end of header: no Subject
		}
		if n, v, ok := bytes.Cut(line, []byte(":")); ok && line[0] != ' ' && line[0] != '\t' && headerIs(n, "Subject") {
			out = append(out, msg[:pos]...)
			out = fmt.Appendf(out, "Subject: %s: ", tag)
			out = append(out, bytes.TrimLeft(v, " \t")...)
			return append(out, msg[end:]...)
		}
		if !bytes.Contains(line, []byte(":")) && line[0] != ' ' && line[0] != '\t' {
			break // the body starts without a blank line
		}
		pos = end
	}
	out = fmt.Appendf(out, "Subject: %s:\r\n", tag)
	return append(out, msg...)
}

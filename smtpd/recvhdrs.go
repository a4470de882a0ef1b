package smtpd

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// This file is DNSBL_CHKRECVHDRS: a message relayed to us by a clean
// server may still come from a listed one, and its Received header fields
// (RFC 5321 §4.4) say which servers it passed. Each field names the host
// it came from after "from", usually with the address in brackets:
//
//	Received: from mx.spam.example (mx.spam.example [192.0.2.7])
//	          by relay.example ...
//
// The bracketed address of the from-clause is looked up like a client's.
// Host names are not looked up (anyone can write any name there); they
// only count for dnsbl_exempt.cfg.

// maxReceivedLookups caps the DNSBL lookups for one message, so that a
// message with a hundred Received fields cannot make a hundred rounds of
// DNS queries.
const maxReceivedLookups = 10

// checkReceived looks up the addresses named in the message's Received
// fields, newest first, and returns the first listing found. Private,
// loopback and other non-public addresses, the client's own address
// (decided at connect) and dnsbl_exempt.cfg hosts and addresses are
// skipped.
func (s *session) checkReceived(hdr headerInfo) dnsblListing {
	if !s.cfg.DNSBLCheckReceived || s.cfg.DNSBL == nil {
		return dnsblListing{}
	}
	ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.MaxInactivity, 30*time.Second))
	defer cancel()
	seen := map[string]bool{s.ip: true}
	lookups := 0
	for _, v := range hdr.receivedFields {
		host, ip := receivedSource(v)
		if ip == "" || seen[ip] {
			continue
		}
		seen[ip] = true
		if !publicAddr(ip) || listed(s.cfg.DNSBLExempt, ip, host) {
			continue
		}
		if lookups == maxReceivedLookups {
			s.log.Debug(fmt.Sprintf("SMTP %s [%s] DNSBL_CHKRECVHDRS: %d addresses looked up, the rest of the Received fields skipped", s.host, s.ip, lookups))
			break
		}
		lookups++
		found, list, answer, err := s.cfg.DNSBL.Check(ctx, ip)
		if err != nil {
			s.log.Info(fmt.Sprintf("SMTP %s [%s] DNSBL lookup problem for %s (Received header): %v", s.host, s.ip, ip, err))
		}
		if found {
			s.log.Warn(fmt.Sprintf("SMTP BLACKLISTED SERVER on %s: %s [%s] = %s (Received header)", list, host, ip, answer))
			return dnsblListing{list: list, answer: answer, ip: ip, received: true}
		}
	}
	return dnsblListing{}
}

// receivedSource takes a Received field value apart: the host name after
// "from" and the address in the last [...] of the from-clause (an
// "IPv6:" prefix removed, RFC 5321 §4.1.3). Either may be "". The text is
// lower-cased first, as Synchronet does, so case never matters.
func receivedSource(v string) (host, ip string) {
	v = strings.ToLower(v)
	i := fromWord(v)
	if i < 0 {
		return "", ""
	}
	clause := v[i+len("from"):]
	// The from-clause ends where the by-clause begins: an address after
	// "by" is the receiving server's, not the sender's.
	if j := strings.Index(clause, " by "); j >= 0 {
		clause = clause[:j]
	}
	// "from [192.0.2.7]" gives no name.
	if f := strings.Fields(clause); len(f) > 0 && !strings.HasPrefix(f[0], "[") {
		host = strings.Trim(f[0], "();")
	}
	lit, ok := sourceLiteral(clause)
	if !ok {
		return host, ""
	}
	lit = strings.TrimPrefix(strings.TrimSpace(lit), "ipv6:")
	a, err := netip.ParseAddr(lit)
	if err != nil || a.Zone() != "" {
		return host, ""
	}
	return host, a.Unmap().String()
}

// sourceLiteral returns the text of the last complete [...] in a
// from-clause that is not Exim's "helo=[...]". The receiving server writes
// the address it saw after the name the client gave, in the comment
// ("from [claimed] (rdns [seen])", "from host ([claimed] [seen])"), and a
// client may give HELO any address literal: the first one would be the
// client's choice. Synchronet takes the first.
func sourceLiteral(clause string) (string, bool) {
	lit, found := "", false
	for off := 0; ; {
		open := strings.IndexByte(clause[off:], '[')
		if open < 0 {
			return lit, found
		}
		open += off
		end := strings.IndexByte(clause[open:], ']')
		if end < 0 {
			return lit, found
		}
		if !strings.HasSuffix(clause[:open], "helo=") {
			lit, found = clause[open+1:open+end], true
		}
		off = open + end + 1
	}
}

// fromWord finds the word "from" followed by white space, at the start of
// v or after white space, so that "envelope-from" is not taken for it.
func fromWord(v string) int {
	for off := 0; ; {
		i := strings.Index(v[off:], "from")
		if i < 0 {
			return -1
		}
		i += off
		before := i == 0 || v[i-1] == ' ' || v[i-1] == '\t'
		after := i+4 < len(v) && (v[i+4] == ' ' || v[i+4] == '\t')
		if before && after {
			return i
		}
		off = i + 4
	}
}

// publicAddr reports whether an address can be on a public blacklist:
// not private (RFC 1918, RFC 4193), loopback, link-local, multicast,
// unspecified or shared address space (RFC 6598).
func publicAddr(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	return !sharedSpace.Contains(a)
}

// sharedSpace is 100.64.0.0/10, the carrier-grade NAT range of RFC 6598.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

package smtpd

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// This file holds the anti-spam measures that go beyond a list lookup:
// spam bait at RCPT (with the automatic spamblock.cfg entry of
// spamblock.go), the spam hash database at the end of DATA, and the
// DNSBL_THROTTLE delay before each line.
//
// Authenticated sessions are spared all of it: a user's own mail is never
// dropped as spam, never hashed and never delayed. A user writing to a
// bait address only loses that recipient.

// spamLogTime is the date format of spam.log entries and the dates quoted
// in them.
const spamLogTime = "Mon Jan 02 2006 15:04:05"

// rcptAddr is what spambait.cfg and smtpspy.can are matched against: the
// RCPT address after any forward: and local: prefixes (in that order) and
// before aliases.
func rcptAddr(path string) string {
	for _, p := range []string{"forward:", "local:"} {
		if len(path) >= len(p) && strings.EqualFold(path[:len(p)], p) {
			path = path[len(p):]
		}
	}
	return path
}

// rcptBait handles a RCPT TO a spambait.cfg address and reports whether
// addr was bait (the caller answers 250 as for any recipient). Telegrams
// (SEND, SOML, SAML) have no spam checks, as in Synchronet: their
// recipients must be users. The recipient counts, so
// DATA may follow, but nothing is stored for it. Every RCPT sets the bait
// flag anew, so the last recipient decides whether the message is dropped,
// as in Synchronet; any bait recipient puts the body in the spam hash
// database. An unauthenticated client is blocked in spamblock.cfg unless
// it is already DNS-listed, and its listing is cleared: the block, not the
// listing, now speaks for it.
func (s *session) rcptBait(addr, fp string) bool {
	if s.tx.telegram != "" || !listed(s.cfg.SpamBait, addr) {
		s.tx.bait = false
		return false
	}
	s.tx.bait, s.tx.baited = true, true
	s.tx.count++
	s.tx.rcpts = append(s.tx.rcpts, envelope.Rcpt{Kind: envelope.KindDrop, To: addr, ForwardPath: fp})
	action := "IGNORED"
	if s.auth == nil {
		wasListed := s.dnsbl.list != ""
		s.dnsbl = dnsblListing{}
		if !wasListed && s.blockClient(addr) {
			action = "IGNORED and BLOCKED"
		}
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] SPAM BAIT (%s) TAKEN by %s", s.host, s.ip, addr, angle(s.tx.reversePath)))
	s.spamLog(action, addr, fmt.Sprintf("SPAM BAIT (%s) taken", addr))
	return true
}

// spamMessage is the end-of-data spam stage, after the DNSBL stage and
// before the mail processors. It reports whether the message is to be
// dropped (accepted with 250, stored nowhere): dropped already by
// DNSBL_IGNORE, its body in the spam hash database, or the last recipient
// bait. The body is recorded as spam when the message carried bait, or
// came from a DNS-listed client (or through a listed server,
// DNSBL_CHKRECVHDRS) with DNSBL_SPAMHASH.
func (s *session) spamMessage(text []byte, dropped bool) bool {
	if s.auth != nil {
		return dropped
	}
	if db := s.deps.SpamHash; db != nil {
		body := messageBody(text)
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.MaxInactivity)
		defer cancel()
		var known bool
		var id string
		var added time.Time
		var err error
		if !dropped {
			known, id, added, err = db.KnownSpam(ctx, body)
		}
		switch {
		case err != nil:
			// A broken spam database must not cost anyone their mail.
			s.log.Error(fmt.Sprintf("SMTP %s [%s] spam hash lookup failed: %v", s.host, s.ip, err))
		case known:
			why := fmt.Sprintf("body (%s) found in SPAM database (added on %s)", id, added.Format(spamLogTime))
			s.log.Warn(fmt.Sprintf("!SMTP %s [%s] IGNORED MAIL from %s: %s", s.host, s.ip, angle(s.tx.reversePath), why))
			s.spamLog("IGNORED", rcptList(s.tx.rcpts), why)
			return true
		}
		if s.tx.baited || (s.tx.listing.list != "" && s.cfg.DNSBLSpamHash) {
			if err := db.AddSpam(ctx, body); err != nil {
				s.log.Error(fmt.Sprintf("SMTP %s [%s] cannot add to the spam hash database: %v", s.host, s.ip, err))
			} else {
				s.log.Info(fmt.Sprintf("SMTP %s [%s] message body from %s added to the SPAM database", s.host, s.ip, angle(s.tx.reversePath)))
			}
		}
	}
	if s.tx.bait && !dropped {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] IGNORED MAIL from %s: the last recipient was spam bait", s.host, s.ip, angle(s.tx.reversePath)))
		return true
	}
	return dropped
}

// messageBody is the part of msg after its header section (RFC 5322
// §2.1): after the first empty line, or from the first line that is
// neither a header field nor a continuation of one.
func messageBody(msg []byte) []byte {
	pos := 0
	for pos < len(msg) {
		line, end := lineAt(msg, pos)
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			return msg[end:]
		}
		if line[0] != ' ' && line[0] != '\t' && !bytes.Contains(trimmed, []byte(":")) {
			return msg[pos:]
		}
		pos = end
	}
	return nil
}

// throttleLine is DNSBL_THROTTLE: a listed, unauthenticated client waits
// ThrottleDelay before each line is read, message text included, which
// costs a spam run time while costing the server nothing. Shutdown ends
// the wait at once with errStopped.
func (s *session) throttleLine() error {
	if !s.cfg.DNSBLThrottle || !s.dnsblListed() {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	stop := context.AfterFunc(s.srv.stopCtx, cancel)
	defer stop()
	if err := s.cfg.Pause(ctx, s.cfg.ThrottleDelay); err != nil {
		if ctx.Err() != nil {
			return errStopped
		}
		return fmt.Errorf("DNSBL throttle: %w", err)
	}
	return nil
}

// sleep is the default Config.Pause.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pause: %w", ctx.Err())
	}
}

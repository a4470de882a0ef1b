package smtpd

import (
	"fmt"
)

// mailAuth runs Deps.MailAuth on the message as it arrived, before the
// DNSBL tag or a processor can change the text (a changed Subject would
// break the sender's DKIM signature). It keeps the Authentication-Results
// field in the transaction (it goes on top of each stored copy) and
// returns the text, without forged fields, and why the sysop's rules tag
// the message as spam ("" when they do not; tagAuthSpam tags it); a
// refusal is an error. Without MailAuth the text is returned as it is.
func (s *session) mailAuth(msg []byte) ([]byte, string, error) {
	if s.deps.MailAuth == nil {
		return msg, "", nil
	}
	r := s.deps.MailAuth.Check(s.ctx, &MailAuthInput{
		ClientIP: s.ip, Helo: s.helo, ReversePath: s.tx.reversePath,
		Authenticated: s.auth != nil,
		Exempt:        s.exempt || listed(s.cfg.RelayHosts, s.ip, s.clientHost()),
		Text:          msg,
	})
	if r.Text == nil {
		r.Text = msg
	}
	s.tx.authField = r.Field
	if r.Summary != "" {
		s.log.Info(fmt.Sprintf("SMTP %s [%s] mail from %s: %s", s.host, s.ip, angle(s.tx.reversePath), r.Summary))
	}
	switch {
	case r.Reject != nil:
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] REFUSED MAIL from %s: %s", s.host, s.ip, angle(s.tx.reversePath), r.Reason))
		s.spamLog("REFUSED", rcptList(s.tx.rcpts), r.Reason)
		return nil, "", r.Reject
	case r.Spam:
		s.log.Info(fmt.Sprintf("SMTP %s [%s] TAGGED MAIL from %s: %s", s.host, s.ip, angle(s.tx.reversePath), r.Reason))
		s.spamLog("TAGGED", rcptList(s.tx.rcpts), r.Reason)
		return r.Text, r.Reason, nil
	}
	return r.Text, "", nil
}

// tagAuthSpam tags a message the mail authentication rules call spam as a
// DNSBL hit is tagged (an X-Spam-Flag field with the reason, the
// DNSBlacklistSubject tag, the spam flag), unless the DNSBL already
// tagged it: one Subject tag is enough. It reports whether the message
// is tagged.
func (s *session) tagAuthSpam(msg []byte, reason string, tagged bool) ([]byte, bool) {
	if reason == "" || tagged {
		return msg, tagged || reason != ""
	}
	return tagMessage(msg, "X-Spam-Flag", "YES ("+reason+")", s.cfg.DNSBLSubject), true
}

package smtpd

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// Sender checks: who a message claims to come from.
//
// An authenticated session, on any port, may name only addresses its user
// owns (Resolver.OwnsSender) as the envelope sender and in the From and
// Sender header fields: all of them, since a From field may hold a list
// (RFC 5322 §3.6.2). That keeps a user from sending as the sysop or as
// another user, inside or out. Any session, authenticated or not, may not
// give the From field a display name that is an address of this system
// other than the real address: mail readers show the name, so
// `"sysop@bbs.example" <spammer@evil.example>` would pass for the sysop.

// checkMailOwner is the MAIL FROM check of an authenticated session: the
// reverse path must be the user's (the null path always is).
func (s *session) checkMailOwner(path string) error {
	if s.auth == nil || path == "" {
		return nil
	}
	ok, suggestion := s.deps.Resolver.OwnsSender(s.ctx, *s.auth, path)
	if ok {
		return nil
	}
	s.log.Warn(fmt.Sprintf("!SMTP %s [%s] user %s may not send as <%s>", s.host, s.ip, s.auth.Alias, path))
	return replyNotOwnSender(path, suggestion)
}

// checkHeaderSenders checks the From and Sender fields at the end of DATA:
// display names for every session, ownership for authenticated ones.
func (s *session) checkHeaderSenders(hdr headerInfo) error {
	for _, v := range hdr.fromFields {
		if err := s.checkFromName(v); err != nil {
			return err
		}
	}
	if s.auth == nil {
		return nil
	}
	for _, f := range []struct {
		name   string
		values []string
	}{{"FROM", hdr.fromFields}, {"SENDER", hdr.senderFields}} {
		for _, v := range f.values {
			if err := s.checkFieldOwner(f.name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFieldOwner checks every address of one From or Sender field value.
// A value that is not an address list proves no ownership and is refused.
func (s *session) checkFieldOwner(field, value string) error {
	addrs := []string{cleanArg(strings.TrimSpace(value))}
	if list, err := mail.ParseAddressList(value); err == nil {
		addrs = addrs[:0]
		for _, a := range list {
			addrs = append(addrs, a.Address)
		}
	}
	for _, a := range addrs {
		ok, suggestion := s.deps.Resolver.OwnsSender(s.ctx, *s.auth, a)
		if ok && a != "" {
			continue
		}
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] user %s may not use the %s address <%s>", s.host, s.ip, s.auth.Alias, fieldTitle(field), a))
		return replyNotOwnField(field, a, suggestion)
	}
	return nil
}

// checkFromName refuses a From mailbox whose display name is itself an
// address in one of this system's domains and differs from the mailbox's
// real address (Synchronet: "mismatched 'FROM' field"). net/mail has
// already decoded RFC 2047 words in the name.
func (s *session) checkFromName(value string) error {
	list, err := mail.ParseAddressList(value)
	if err != nil {
		return nil
	}
	for _, a := range list {
		name := strings.Trim(strings.TrimSpace(a.Name), "<>")
		n, err := mail.ParseAddress(name)
		if name == "" || err != nil || strings.EqualFold(n.Address, a.Address) {
			continue
		}
		_, domain := envelope.SplitAddress(n.Address)
		if !s.deps.Resolver.IsLocal(domain, 0) {
			continue
		}
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] FORGED mail header 'FROM' field ('%s' vs '%s')", s.host, s.ip, cleanArg(name), a.Address))
		return replyForgedFrom
	}
	return nil
}

// fieldTitle spells a header field name as it appears in messages.
func fieldTitle(field string) string {
	return field[:1] + strings.ToLower(field[1:])
}

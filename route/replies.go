package route

import "github.com/bbsmail/bbsmail/envelope"

// The refusals. Texts follow Synchronet's, which sysops and their log
// filters know; the enhanced codes are RFC 3463's.

func replyNoRecipient() *envelope.Reply {
	return &envelope.Reply{Code: 500, Enhanced: "5.1.3", Text: "No recipient specified", Err: envelope.ErrSyntax}
}

func replyUnknownUser(fp string) *envelope.Reply {
	return envelope.UnknownUser(fp, envelope.ErrUnknownUser)
}

// replyBlockedTag reads exactly like an unknown user, so that a spammer
// learns nothing from a withdrawn tag.
func replyBlockedTag(fp string) *envelope.Reply {
	return envelope.UnknownUser(fp, envelope.ErrBlockedTag)
}

func replyUnknownSub(code string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.1.1", Text: "Unknown sub-board: " + code, Err: envelope.ErrUnknownSub}
}

func replyClosed(fp string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Closed mailbox: " + fp, Err: envelope.ErrMailboxClosed}
}

func replyMailboxFull(fp string) *envelope.Reply {
	return &envelope.Reply{Code: 450, Enhanced: "4.2.2", Text: "Mailbox full: " + fp, Err: envelope.ErrMailboxFull}
}

func replyUnavailable() *envelope.Reply {
	return &envelope.Reply{Code: 450, Enhanced: "4.2.1", Text: "User unavailable", Err: envelope.ErrUnavailable}
}

// replyRelayDenied refuses a relay and asks the server to disconnect, as
// Synchronet does. With ALLOW_RELAY on, authenticating would have helped,
// and the text says so.
func (r *Resolver) replyRelayDenied() *envelope.Reply {
	if r.cfg.AllowRelay {
		return &envelope.Reply{
			Code: 553, Enhanced: "5.7.1",
			Text:  "Relaying through this server requires authentication.  Please authenticate before sending.",
			Close: true, Err: envelope.ErrRelayDenied,
		}
	}
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Relay not allowed.", Close: true, Err: envelope.ErrRelayDenied}
}

// replyBadAddress refuses a recipient whose mailbox has more than one '@'
// outside quotes.
func replyBadAddress(fp string) *envelope.Reply {
	return &envelope.Reply{Code: 553, Enhanced: "5.1.3", Text: "Bad destination mailbox address syntax: " + fp, Err: envelope.ErrSyntax}
}

// replyBadDestination refuses a destination SendMail must not connect to
// for a client: a non-public address literal, a host name for this
// machine, or a port other than 25.
func replyBadDestination(domain, why string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Destination not allowed: " + domain + ": " + why, Err: envelope.ErrBadDestination}
}

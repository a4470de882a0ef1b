package smtpd

import (
	"errors"
	"fmt"

	"github.com/bbsmail/bbsmail/envelope"
)

// The server's own replies, in one place. Texts follow Synchronet's,
// which sysops and their log filters know; the enhanced codes are RFC
// 3463's. Refusals about recipients (unknown user, relay) are the
// Resolver's: the server sends them as they come. The shared values are
// never changed after start.

// errBadCommand marks a syntax or sequence error: answer counts it
// against MaxBadCommands.
var errBadCommand = errors.New("bad command")

// badCommand is a syntax or sequence error, counted by answer.
func badCommand(code int, enhanced, text string) *envelope.Reply {
	return &envelope.Reply{Code: code, Enhanced: enhanced, Text: text, Err: errBadCommand}
}

var (
	replyOK       = &envelope.Reply{Code: 250, Enhanced: "2.0.0", Text: "OK"}
	replySenderOK = &envelope.Reply{Code: 250, Enhanced: "2.1.0", Text: "OK"}
	replyRcptOK   = &envelope.Reply{Code: 250, Enhanced: "2.1.5", Text: "OK"}
	replyVRFY     = &envelope.Reply{Code: 252, Enhanced: "2.5.0", Text: "Cannot verify the address; send mail and delivery will be attempted"}
	replyHELP     = &envelope.Reply{Code: 214, Enhanced: "2.0.0", Text: "Commands: HELO EHLO AUTH STARTTLS MAIL SEND SOML SAML RCPT DATA RSET NOOP VRFY QUIT"}

	replyNotImplemented = &envelope.Reply{Code: 502, Enhanced: "5.5.1", Text: "Command not implemented"}
	replyUnrecognized   = badCommand(500, "5.5.2", "Syntax error, command unrecognized")
	replyControlChar    = badCommand(500, "5.5.2", "Syntax error, control character in command")
	replyLineTooLong    = badCommand(500, "5.5.2", "Line too long")
	replyNeedHELO       = badCommand(503, "5.5.1", "Bad sequence of commands: send HELO/EHLO first")
	replyNeedMAIL       = badCommand(503, "5.5.1", "Bad sequence of commands: send MAIL first")
	replyNeedRCPT       = badCommand(503, "5.5.1", "Bad sequence of commands: send RCPT first")

	replyStartTLS  = &envelope.Reply{Code: 220, Enhanced: "2.0.0", Text: "Ready to start TLS"}
	replyNoTLS     = &envelope.Reply{Code: 454, Enhanced: "4.7.0", Text: "TLS not available"}
	replyTLSActive = badCommand(503, "5.5.1", "TLS already active")

	replyUnknownParm = badCommand(555, "5.5.4", "Unsupported parameter")
	replyBadSender   = badCommand(501, "5.1.7", "Bad address syntax")
	replyBadParm     = badCommand(501, "5.5.4", "Bad parameter")
	replyBadRcpt     = badCommand(553, "5.1.3", "Bad destination mailbox address syntax")
	replyAuthNeeded  = &envelope.Reply{Code: 530, Enhanced: "5.7.0", Text: "Authentication required.", Err: envelope.ErrAuthRequired}
	replySizeLimit   = &envelope.Reply{Code: 552, Enhanced: "5.3.4", Text: "Message size exceeds maximum"}
	replyTooManyRcpt = &envelope.Reply{Code: 452, Enhanced: "4.5.3", Text: "Too many recipients"}

	// replyNoRoom defers a message when the budget for message text in
	// memory (Config.MaxDataInFlight) is spent.
	replyNoRoom      = &envelope.Reply{Code: 452, Enhanced: "4.3.1", Text: "Insufficient system storage, try again later"}
	replyTextTooLong = &envelope.Reply{Code: 500, Enhanced: "5.5.2", Text: "Line too long"}
	replyBareDot     = &envelope.Reply{Code: 554, Enhanced: "5.6.0", Text: "Message refused: a line holding only \".\" must end in CR LF"}
	replyNoText      = &envelope.Reply{Code: 554, Enhanced: "5.6.0", Text: "No message text"}
	replyMailLoop    = &envelope.Reply{Code: 554, Enhanced: "5.4.6", Text: "Mail loop detected: too many Received headers"}
	replyNoFrom      = &envelope.Reply{Code: 554, Enhanced: "5.6.0", Text: "Mail header missing 'FROM' field"}

	replyAuthOK        = &envelope.Reply{Code: 235, Enhanced: "2.7.0", Text: "Authentication successful"}
	replyAuthFailed    = &envelope.Reply{Code: 535, Enhanced: "5.7.8", Text: "Authentication failure", Close: true}
	replyAuthCancelled = &envelope.Reply{Code: 501, Enhanced: "5.0.0", Text: "Authentication cancelled"}
	replyAuthSequence  = badCommand(503, "5.5.1", "Bad sequence of commands")
	replyAuthMech      = &envelope.Reply{Code: 504, Enhanced: "5.5.4", Text: "Unrecognized authentication type"}
	replyAuthPlainTLS  = &envelope.Reply{Code: 538, Enhanced: "5.7.11", Text: "Encryption required for requested authentication mechanism"}
	replyBadBase64     = badCommand(501, "5.5.2", "Bad base64 data")
	replyAuthTooLong   = badCommand(500, "5.5.6", "Authentication exchange line is too long")
	replyAuthBadArg    = badCommand(501, "5.5.2", "Bad argument")
	// replyTooManyRequests ends a session over the request rate limit.
	replyTooManyRequests = &envelope.Reply{Code: 421, Enhanced: "4.7.0", Text: "too many requests, try again later", Close: true}

	replyShuttingDown = &envelope.Reply{Code: 421, Enhanced: "4.3.2", Text: "Service shutting down", Close: true}
	replyTooManyConns = &envelope.Reply{Code: 421, Enhanced: "4.3.2", Text: "System Error: Maximum active clients reached, try again later", Close: true}
	replyTooManyPerIP = &envelope.Reply{Code: 421, Enhanced: "4.7.0", Text: "System Error: Maximum connections exceeded, try again later", Close: true}
)

// syntaxReply is the usage reply for a command whose argument is wrong.
func syntaxReply(usage string) *envelope.Reply { return badCommand(501, "5.5.4", "Syntax: "+usage) }

// replyGreeting is the 220 banner; like the HELO/EHLO replies it has no
// enhanced code (RFC 2034 §3).
func replyGreeting(host, proto, version string) *envelope.Reply {
	return &envelope.Reply{Code: 220, Text: fmt.Sprintf("%s bbsmail %s Server %s Ready", host, proto, version), NoEnhanced: true}
}

// replyHello answers HELO (one line) and EHLO (the host name and the
// extensions, one a line).
func replyHello(lines string) *envelope.Reply {
	return &envelope.Reply{Code: 250, Text: lines, NoEnhanced: true}
}

func replyQuit(host string) *envelope.Reply {
	return &envelope.Reply{Code: 221, Enhanced: "2.0.0", Text: host + " Service closing transmission channel", Close: true}
}

func replyTooManyErrors(host string) *envelope.Reply {
	return &envelope.Reply{Code: 421, Enhanced: "4.7.0", Text: host + " Too many errors", Close: true}
}

func replyIdle(host string) *envelope.Reply {
	return &envelope.Reply{Code: 421, Enhanced: "4.4.2", Text: host + " Idle timeout", Close: true}
}

// replyPanic ends a session whose goroutine panicked.
func replyPanic(host string) *envelope.Reply {
	return &envelope.Reply{Code: 421, Enhanced: "4.3.0", Text: host + " Local error, closing connection", Close: true}
}

// replyGoAhead is the DATA go-ahead; a 3xx reply has no enhanced code.
var replyGoAhead = &envelope.Reply{Code: 354, Text: "Send the mail data, end with <CRLF>.<CRLF>"}

// replyChallenge is one AUTH challenge, base64 encoded (RFC 4954 §4).
func replyChallenge(b64 string) *envelope.Reply { return &envelope.Reply{Code: 334, Text: b64} }

// replyStored is the 250 after DATA for a message that Maildrop.Deliver
// committed: finish builds it only after Deliver returned nil.
func replyStored(id string) *envelope.Reply {
	return &envelope.Reply{Code: 250, Enhanced: "2.0.0", Text: "OK " + id}
}

// replyTaken is the 250 for a message a mail processor took: nothing is
// stored, the processor has it.
func replyTaken(id string) *envelope.Reply { return replyStored(id) }

// replyTooBig refuses a message over MaxMsgSize.
func replyTooBig(size, limit int64) *envelope.Reply {
	return envelope.Replyf(552, "5.3.4", "Message size (%d) exceeds maximum: %d bytes", size, limit)
}

// replyGrownTooBig refuses a message a mail processor made larger than
// MaxMsgSize.
func replyGrownTooBig(limit int64) *envelope.Reply {
	return envelope.Replyf(552, "5.3.4", "Message size exceeds maximum: %d bytes", limit)
}

// Connection and message filters (filters.go, dnsbl.go, senders.go).

func replyIPBlocked(ip string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "CLIENT IP ADDRESS BLOCKED: " + ip, Close: true}
}

func replyHostBlocked(host string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "CLIENT HOSTNAME BLOCKED: " + host, Close: true}
}

// replyListed refuses a DNS-blacklisted client and ends the session.
func replyListed(ip, list string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Close: true,
		Text: fmt.Sprintf("Mail from %s refused due to listing at %s", ip, list)}
}

var (
	// replySenderBlocked and replySenderRefused are the 554 of email.can
	// and twitlist.cfg: a blocked MAIL FROM ends the session, a refused
	// message does not.
	replySenderBlocked  = &envelope.Reply{Code: 554, Enhanced: "5.7.1", Text: "Sender not allowed.", Close: true}
	replySenderRefused  = &envelope.Reply{Code: 554, Enhanced: "5.7.1", Text: "Sender not allowed."}
	replySubjectBlocked = &envelope.Reply{Code: 554, Enhanced: "5.7.1", Text: "Subject not allowed."}
	// replyToBlocked refuses a message whose To field names an address
	// in email.can, in Synchronet's words.
	replyToBlocked  = &envelope.Reply{Code: 550, Enhanced: "5.1.1", Text: "Unknown user.", Err: envelope.ErrUnknownUser}
	replyForgedFrom = &envelope.Reply{Code: 554, Enhanced: "5.7.1", Err: envelope.ErrNotOwner,
		Text: "Mail header contains mismatched 'FROM' field"}
)

func replyNotOwnSender(path, suggestion string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Err: envelope.ErrNotOwner,
		Text: fmt.Sprintf("Sender address <%s> not authorized for this account, try <%s>", path, suggestion)}
}

func replyNotOwnField(field, addr, suggestion string) *envelope.Reply {
	return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Err: envelope.ErrNotOwner,
		Text: fmt.Sprintf("Mail header '%s' address <%s> not authorized for this account, try <%s>", field, addr, suggestion)}
}

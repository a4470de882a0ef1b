package envelope

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reply is an error that carries the SMTP answer to give the client.
// Protocol servers turn it into a reply line in exactly one place; any error
// that is not a Reply becomes a temporary local error there.
type Reply struct {
	Code     int    // 250, 450, 550 ...
	Enhanced string // RFC 3463 code such as "5.1.1"; derived from Code when empty
	Text     string
	// Close asks the server to disconnect after sending the reply.
	Close bool
	// NoEnhanced leaves the enhanced code out: the greeting and the
	// HELO/EHLO replies carry none (RFC 2034 §3), nor do 3xx replies,
	// which have no class of their own in RFC 3463.
	NoEnhanced bool
	// Err is the reason behind the reply, for errors.Is and the log.
	Err error
}

func (r *Reply) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("%d %s (%v)", r.Code, r.Text, r.Err)
	}
	return fmt.Sprintf("%d %s", r.Code, r.Text)
}

func (r *Reply) Unwrap() error { return r.Err }

// EnhancedCode returns the RFC 3463 status code for the reply, falling back
// to a generic one for the reply's class.
func (r *Reply) EnhancedCode() string {
	if r.Enhanced != "" {
		return r.Enhanced
	}
	switch {
	case r.Code >= 200 && r.Code < 300:
		return "2.0.0"
	case r.Code >= 400 && r.Code < 500:
		return "4.0.0"
	case r.Code >= 500:
		return "5.0.0"
	}
	return ""
}

// Lines renders the reply as the lines sent to the client, without CR LF.
// A Text of several lines is a multi-line reply (RFC 5321 §4.2.1): every
// line but the last has a hyphen after the code, and every line carries
// the enhanced code (RFC 2034 §4). A line without text is the code and
// enhanced code alone; a reply without an enhanced code always has the
// space after its code ("334 " for an empty AUTH challenge, RFC 4954 §4).
func (r *Reply) Lines() []string {
	enh := ""
	if !r.NoEnhanced {
		enh = r.EnhancedCode()
	}
	code := strconv.Itoa(r.Code)
	lines := strings.Split(r.Text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		l = strings.TrimRight(l, "\r")
		switch {
		case enh == "":
			lines[i] = code + sep + l
		case l == "":
			lines[i] = code + sep + enh
		default:
			lines[i] = code + sep + enh + " " + l
		}
	}
	return lines
}

// Replyf builds a Reply.
func Replyf(code int, enhanced, format string, args ...any) *Reply {
	return &Reply{Code: code, Enhanced: enhanced, Text: fmt.Sprintf(format, args...)}
}

// UnknownUser refuses a recipient in Synchronet's words. reason is
// ErrUnknownUser, or the sentinel of a refusal that must read the same so
// that a client learns nothing from it (a withdrawn address tag, an
// address email.can blocks).
func UnknownUser(forwardPath string, reason error) *Reply {
	return &Reply{Code: 550, Enhanced: "5.1.1", Text: "Unknown User: " + forwardPath, Err: reason}
}

// AuthTemporary answers a login whose password could not be checked now
// (the user base failed, or the address's previous check did not end in
// time): 454 4.7.0 (RFC 4954 §6), so the client tries again later instead
// of taking its password for wrong. err is the reason, for the log.
func AuthTemporary(err error) *Reply {
	return &Reply{Code: 454, Enhanced: "4.7.0", Text: "Temporary authentication failure, try again later", Err: err}
}

// Sentinel reasons that a Reply may wrap. Servers use them for logging and
// spam.log entries ("ILLEGAL RELAY ATTEMPT").
var (
	ErrRelayDenied  = errors.New("relay not allowed")
	ErrUnknownUser  = errors.New("unknown user")
	ErrMailboxFull  = errors.New("mailbox full")
	ErrUnavailable  = errors.New("user unavailable")
	ErrBlockedTag   = errors.New("address tag blocked")
	ErrUnknownSub   = errors.New("unknown sub-board")
	ErrNotOwner     = errors.New("sender address not owned")
	ErrAuthRequired = errors.New("authentication required")
	// ErrNoAccess: the sender does not meet the access requirements, such
	// as a sub-board's posting requirements.
	ErrNoAccess = errors.New("insufficient access")
)

// ErrMailboxClosed is the reason for refusing unauthenticated mail to a user
// whose mailbox only accepts mail from authenticated senders (Synchronet's
// restriction flag I).
var ErrMailboxClosed = errors.New("mailbox closed to unauthenticated senders")

// ErrBadDestination is the reason for refusing a recipient whose domain
// would make SendMail connect where a client must not send it: an address
// literal that is not a public unicast address, this machine, or a forced
// port other than 25.
var ErrBadDestination = errors.New("destination not allowed")

package smtpd

import (
	"context"
	"log/slog"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// Authenticator checks BBS credentials for SMTP AUTH.
//
// An error that is (or wraps) an *envelope.Reply is sent to the client as
// that reply and the session goes on; use it for temporary trouble such as
// a locked mail base (454 4.7.0). Any other error counts as a failed login:
// the client waits Config.LoginAttemptDelay, gets 535 and is disconnected.
type Authenticator interface {
	// Authenticate checks a login id (alias, real name or number) and a
	// password.
	Authenticate(ctx context.Context, login, password string) (envelope.Identity, error)
	// Secret returns the user's password for CRAM-MD5, which needs the
	// shared secret itself.
	Secret(ctx context.Context, login string) (envelope.Identity, string, error)
}

// Resolver decides where a recipient goes and whether a sender address
// belongs to an authenticated user.
type Resolver interface {
	// Resolve resolves one RCPT TO (or telegram recipient). A refusal is
	// an *envelope.Reply (550 5.1.1 Unknown User, 450 4.2.2 Mailbox full
	// ...), sent as it is; any other error is a temporary local error.
	// The telegram rules are the Resolver's: a telegram goes only to a
	// user's mailbox, and SEND only to a user who is online. A reply
	// wrapping envelope.ErrRelayDenied is a refused relay (its Close flag
	// ends the session): smtpd adds the ILLEGAL RELAY ATTEMPT log line
	// and the spam.log entry.
	Resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error)
	// OwnsSender reports whether the authenticated user may use addr as
	// the reverse path or a From or Sender address, on any port;
	// suggestion is the user's own address, quoted in the 550 reply.
	OwnsSender(ctx context.Context, id envelope.Identity, addr string) (ok bool, suggestion string)
	// IsLocal reports whether domain is one of this system's (HostName,
	// the system address, domains.cfg); port 0 matches any ":port" on
	// it. The From display-name check uses it (senders.go).
	IsLocal(domain string, port int) bool
}

// Maildrop stores an accepted message for all its recipients.
type Maildrop interface {
	// Deliver returns nil only after the message is durably committed for
	// every recipient in env.Rcpts; only then does the client get 250.
	// msg is the message text as received (CRLF line ends, dot-unstuffed,
	// any Return-Path header removed); each Rcpt.Trace goes in front of it.
	// msg is valid only until Deliver returns: the server gives its memory
	// back then (it may live outside the Go heap, where a later access
	// faults), so an implementation that keeps it must copy it.
	// A cancelled ctx (shutdown past its grace period) must stop a
	// delivery that has not begun its commit; a commit under way may
	// finish (it is bounded by the disk), and Shutdown waits for it.
	// Deliver must not leave anything running that still reads msg.
	Deliver(ctx context.Context, env *envelope.Envelope, msg []byte) error
}

// Telegrams sends BBS short messages ("telegrams") to users: SEND, SOML
// and SAML transactions, and new-mail notifications.
type Telegrams interface {
	// Online reports whether the user is logged on to the BBS now.
	Online(ctx context.Context, user uint32) bool
	// SendTelegram queues a short message for the user.
	SendTelegram(ctx context.Context, user uint32, text string) error
}

// Matcher is a pattern list such as relay.cfg or ipfilter_exempt.cfg
// (envelope.Matcher): Match reports whether any of the strings (a client
// IP and host name) matches the list.
type Matcher = envelope.Matcher

// DNSBLChecker looks a client address up in the DNS blacklists of
// dns_blacklist.cfg; the wiring adapts dnsbl.Resolver and the configured
// lists to it.
type DNSBLChecker interface {
	// Check reports whether ip is listed: list is the whole
	// dns_blacklist.cfg line of the first list holding it and answer the
	// list's A record (such as "127.0.0.2"). A non-nil err reports lists
	// that could not be asked; smtpd logs it and still acts on a listing
	// returned with it.
	Check(ctx context.Context, ip string) (listed bool, list, answer string, err error)
}

// LoginGuard is the failed-login tracker that every server of the process
// shares (the wiring injects package guard), so that password guessing on
// POP3 counts on the SMTP ports too. smtpd never asks it about the server's
// own address or a client in Config.IPFilterExempt, except to report
// failures.
type LoginGuard interface {
	// Banned reports a temporary ban of ip: the time left (0 = none) and,
	// for the log, why.
	Banned(ip string) (remaining time.Duration, why string)
	// Throttle returns how long a new connection from ip waits before the
	// greeting, and the failed attempts behind it.
	Throttle(ip string) (wait time.Duration, attempts int)
	// Failed records a failed AUTH; it writes hack.log and ip.can entries
	// as the sysop's thresholds say.
	Failed(a envelope.LoginAttempt) int
	// Succeeded forgets the failures of ip after a login with a password.
	Succeeded(ip string)
	// Checking waits until no other password check from ip is under way
	// (or ctx ends) and marks one under way; done ends it. smtpd ends it
	// after reporting the outcome with Failed or Succeeded.
	Checking(ctx context.Context, ip string) (done func(), err error)
}

// RateLimiter counts commands per client address or subnet
// (MaxRequestsPerPeriod per RequestRateLimitPeriod).
type RateLimiter interface {
	// Allow counts one command from ip and reports whether it is within
	// the limit.
	Allow(ip string) bool
}

// Processors runs the sysop's external mail processors (ctrl/mailproc.ini)
// on a message after the header checks and before the trace headers are
// added; the wiring adapts package mailproc to it.
type Processors interface {
	// Process returns what to do with the message. An error is a local
	// failure: the client gets a temporary 451 and nothing is stored.
	// in.Text is valid only until the message is finished; Process must
	// not keep it, or anything still reading it, after it returns
	// (ProcessResult.Text may be in.Text itself).
	Process(ctx context.Context, in *ProcessInput) (*ProcessResult, error)
}

// ProcessInput is the message as the processors see it.
type ProcessInput struct {
	// Env holds the client, the reverse path and the recipients as RCPT
	// resolved them; Process does not change it.
	Env *envelope.Envelope
	// Text is the header and body with CRLF line ends, without the trace
	// headers the server adds.
	Text []byte
	// Prefix holds header fields the server puts on top of Text
	// (Authentication-Results): the processors see them in front of the
	// text.
	Prefix []byte
	// SenderName and SenderAddr are the From header's, else the reverse
	// path's.
	SenderName, SenderAddr string
	// LastRcpt is the last RCPT TO address.
	LastRcpt string
	// Listed is set for a DNS-blacklisted client, Bait when the last RCPT
	// was spam bait.
	Listed, Bait bool
	Log          *slog.Logger
}

// ProcessResult is the processors' verdict.
type ProcessResult struct {
	// Reject, when not nil, is the client's answer and nothing is stored.
	// Its Text may hold several lines separated by "\n".
	Reject *envelope.Reply
	// Consumed means a processor took the message: the client gets 250
	// and nothing is stored, for any recipient. Reason says why, for the
	// log.
	Consumed bool
	Reason   string
	// Text and Rcpts replace the message and its recipients otherwise.
	// Prefix is ProcessInput.Prefix while the processors left the text as
	// it was; when they changed it, Text includes what they kept of the
	// prefix and Prefix is nil.
	Text   []byte
	Prefix []byte
	Rcpts  []envelope.Rcpt
}

// SpamHashes is the spam hash database: the bodies of mail sent to spam
// bait (and, with DNSBL_SPAMHASH, of mail from DNS-listed clients). The
// implementation normalises and hashes the body itself (store.HashBody).
// body is valid only during the call.
type SpamHashes interface {
	// AddSpam records body as spam, or records it again; a body with
	// nothing to hash (white space only) is ignored.
	AddSpam(ctx context.Context, body []byte) error
	// KnownSpam reports whether body was recorded as spam. A match counts
	// as seeing it again; id names the hash in logs and added is when the
	// body was first recorded.
	KnownSpam(ctx context.Context, body []byte) (known bool, id string, added time.Time, err error)
}

// MailAuth judges the SPF, DKIM and DMARC of a message at the end of
// DATA, before anything changes its text; the wiring adapts package
// mailauth to it.
type MailAuth interface {
	// Check returns the message to go on with (Authentication-Results
	// claiming to be ours removed, our own added) and what the sysop's
	// rules say to do with it. It never fails: a lookup that could not be
	// made is a temperror in the verdict, and never refuses mail.
	Check(ctx context.Context, in *MailAuthInput) MailAuthResult
}

// MailAuthInput is the client and the message as they arrived.
type MailAuthInput struct {
	ClientIP, Helo, ReversePath string
	// Authenticated clients (SMTP AUTH) are not judged: only forged
	// results are removed from their mail.
	Authenticated bool
	// Exempt clients (relay.cfg, ipfilter_exempt.cfg) are judged, and the
	// verdict recorded, but the rules never act on it.
	Exempt bool
	Text   []byte
}

// MailAuthResult is the outcome of MailAuth.Check.
type MailAuthResult struct {
	// Text is the message with forged Authentication-Results fields
	// removed (nil: unchanged); Field is the server's own field, which
	// goes on top of each stored copy.
	Text  []byte
	Field []byte
	// Summary is the verdict for the log ("spf=pass dkim=none ..."); ""
	// when nothing was judged.
	Summary string
	// Reject, when not nil, refuses the message; Spam tags it as a
	// DNS-blacklisted message is tagged. Reason says why, for spam.log.
	Reject *envelope.Reply
	Spam   bool
	Reason string
}

// Deps are the server's collaborators. Resolver and Maildrop are
// required. Without Auth the server offers no AUTH; without Telegrams it
// offers no SEND/SOML/SAML and sends no new-mail notifications; without
// Guard there are no temporary bans or throttling and failed logins are not
// tracked; without RateLimit commands are not rate-limited; without
// SpamHash no body is hashed or dropped as known spam. Deps outlive
// Server.SetConfig, so the guard's counts survive a reload.
type Deps struct {
	Auth      Authenticator
	Resolver  Resolver
	Maildrop  Maildrop
	Telegrams Telegrams
	// Processors, when set, runs mailproc.ini's processors on every
	// message (telegrams excepted).
	Processors Processors
	Guard      LoginGuard
	RateLimit  RateLimiter
	SpamHash   SpamHashes
	// Conns counts connections for MaxClients and MaxConnsPerIP. The
	// wiring shares one with the POP3 server, so the limits span both
	// protocols as in Synchronet's mail server; nil gives the Server
	// counts of its own.
	Conns *netutil.Conns
	// MailAuth, when set, judges SPF, DKIM and DMARC at the end of DATA.
	MailAuth MailAuth
	// Observer, when set, hears of each AUTH's outcome (the wiring
	// counts them for the metrics endpoint).
	Observer Observer
}

// Observer hears of outcomes the sysop counts. Its methods must be quick
// and safe for concurrent use: they run on the session's goroutine.
type Observer interface {
	// AuthResult reports the end of one AUTH exchange: the mechanism
	// ("PLAIN", "LOGIN", "CRAM-MD5") and whether the credentials were
	// good. An exchange that was cancelled, malformed or stopped by
	// temporary trouble is neither.
	AuthResult(mechanism string, ok bool)
}

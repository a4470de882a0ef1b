package pop3d

import (
	"context"
	"errors"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// ErrBadLogin is what an Authenticator wraps for an unknown user, a wrong
// password or an account that may not log in. Any other error is taken as a
// system failure: the client is told to try again later and the error is
// logged, never shown.
var ErrBadLogin = errors.New("unknown user or wrong password")

// Authenticator checks BBS users' credentials.
type Authenticator interface {
	// Authenticate checks a USER/PASS login. login is the name the client
	// gave, with any "#nospam" suffix already removed.
	Authenticate(ctx context.Context, login, password string) (envelope.Identity, error)
	// Secret returns the user's shared secret for APOP (RFC 1939 §7). An
	// account without a usable secret answers an error wrapping ErrBadLogin.
	Secret(ctx context.Context, login string) (envelope.Identity, string, error)
}

// Mailbox is the part of the mailbase a POP3 session needs. Implementations
// must be safe for concurrent use by many sessions.
type Mailbox interface {
	// List returns the user's undeleted messages, oldest first.
	List(ctx context.Context, user uint32) ([]Message, error)
	// Read appends one whole stored message with CRLF line endings,
	// exactly the octets counted in Message.Size, to buf and returns the
	// extended slice (the session reuses buf from one RETR to the next).
	// It must not keep a database transaction open after it returns: the
	// session streams the bytes to a client that may be slow.
	Read(ctx context.Context, user uint32, id uint64, buf []byte) ([]byte, error)
	// MarkRead flags messages as read.
	MarkRead(ctx context.Context, user uint32, ids ...uint64) error
	// Delete removes messages in one transaction: all or none.
	Delete(ctx context.Context, user uint32, ids ...uint64) error
}

// Message describes one stored message, without its text.
type Message struct {
	// ID is the mailbase's number for the message. It is unique in the
	// mailbox and never reused, so it serves as the POP3 unique-id (UIDL).
	ID uint64
	// Size is the length of what Read returns, in octets.
	Size int64
	// Spam is set on messages flagged as spam when they were received.
	Spam bool
	// KillRead asks for the message to be deleted once it has been read.
	KillRead bool
}

// Matcher answers whether any of the given strings is listed, as the
// sysop's pattern lists (ctrl/pattern) do (envelope.Matcher). It is used
// for ipfilter_exempt.cfg, ip.can, ip-silent.can and host.can.
type Matcher = envelope.Matcher

// LoginGuard is the failed-login tracker that every server of the process
// shares (the wiring injects package guard), so that password guessing on
// SMTP counts against POP3 too and the other way round. pop3d never asks it
// about the server's own address or a client in Config.IPFilterExempt, except to
// report failures.
type LoginGuard interface {
	// Banned reports a temporary ban of ip: the time left (0 = none) and,
	// for the log, why.
	Banned(ip string) (remaining time.Duration, why string)
	// Throttle returns how long a new connection from ip waits before the
	// greeting, and the failed attempts behind it.
	Throttle(ip string) (wait time.Duration, attempts int)
	// Failed records a failed login; it writes hack.log and ip.can
	// entries as the sysop's thresholds say.
	Failed(a envelope.LoginAttempt) int
	// Succeeded forgets the failures of ip after a login with a password.
	Succeeded(ip string)
	// Checking waits until no other password check from ip is under way
	// (or ctx ends) and marks one under way; done ends it. pop3d ends it
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

// Deps are the services a Server uses. Guard and RateLimit may be nil (no
// failed-login tracking, no rate limit); they outlive Server.SetConfig, so
// their counts survive a reload.
type Deps struct {
	Auth      Authenticator
	Mailbox   Mailbox
	Guard     LoginGuard
	RateLimit RateLimiter
	// Conns counts connections for MaxClients and MaxConnsPerIP. The
	// wiring shares one with the SMTP server, so the limits span both
	// protocols as in Synchronet's mail server; nil gives the Server
	// counts of its own.
	Conns *netutil.Conns
	// Observer, when set, hears of each login's outcome (the wiring
	// counts them for the metrics endpoint).
	Observer Observer
}

// Observer hears of outcomes the sysop counts. Its methods must be quick
// and safe for concurrent use: they run on the session's goroutine.
type Observer interface {
	// AuthResult reports one checked login: the method ("USER/PASS",
	// "APOP") and whether the credentials were good. A check that
	// failed for lack of the mailbase is neither.
	AuthResult(method string, ok bool)
}

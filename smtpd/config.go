package smtpd

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"time"
)

// Mode is the kind of port a listener serves.
type Mode int

const (
	// MTA is port 25: mail from other servers, AUTH optional.
	MTA Mode = iota
	// Submission is port 587: AUTH required before MAIL, STARTTLS offered.
	Submission
	// SubmissionTLS is port 465: like Submission, inside implicit TLS
	// (RFC 8314 §3.3).
	SubmissionTLS
)

func (m Mode) String() string {
	switch m {
	case MTA:
		return "SMTP"
	case Submission:
		return "submission"
	case SubmissionTLS:
		return "SMTPS"
	}
	return "unknown"
}

// submission reports whether the port is a message submission port.
func (m Mode) submission() bool { return m == Submission || m == SubmissionTLS }

// Defaults used for zero Config fields.
const (
	DefaultMaxInactivity  = 120 * time.Second
	DefaultMaxBadCommands = 10
	// DefaultDNSBLHeader and DefaultDNSBLSubject are sbbs.ini's defaults
	// for DNSBlacklistHeader and DNSBlacklistSubject.
	DefaultDNSBLHeader  = "X-DNSBL"
	DefaultDNSBLSubject = "SPAM"
	// DefaultThrottleDelay is Synchronet's DNSBL_THROTTLE wait per line.
	DefaultThrottleDelay = time.Second
)

// Config is the server's configuration, filled by the wiring from sbbs.ini
// [Mail] and the list files. A session keeps the Config it started with;
// Server.SetConfig affects new sessions only.
type Config struct {
	// HostName is the name in the banner, replies and Received headers.
	// Empty means the operating system's host name.
	HostName string
	// Version appears in the banner and Received headers.
	Version string
	// TLS enables STARTTLS (and is required for SubmissionTLS listeners).
	// Nil means no TLS.
	TLS *tls.Config

	// MaxClients is the number of concurrent sessions over all listeners
	// of the Server; 0 is unlimited.
	MaxClients int
	// MaxConnsPerIP is MaxConcurrentConnections: concurrent sessions from
	// one client IP; 0 is unlimited.
	MaxConnsPerIP int
	// MaxInactivity is how long a read may wait for the client: between
	// commands and for each line of message text. 0 means
	// DefaultMaxInactivity.
	MaxInactivity time.Duration
	// MaxRecipients per message; 0 is unlimited.
	MaxRecipients int
	// MaxMsgSize in bytes of message text; 0 is unlimited.
	MaxMsgSize int64
	// MaxDataInFlight bounds the octets of message text held in memory by
	// all DATA transactions of the server together; a message that does
	// not fit is answered 452 4.3.1 and its text dropped as it arrives. 0
	// is unlimited.
	MaxDataInFlight int64
	// MaxBadCommands is how many syntax and sequence errors a session may
	// make; one more disconnects it. 0 means DefaultMaxBadCommands.
	MaxBadCommands int
	// LoginAttemptDelay is the pause before the 535 reply to a failed AUTH.
	// The other LoginAttempt* settings and the request rate limit belong
	// to Deps.Guard and Deps.RateLimit, which outlive a configuration.
	LoginAttemptDelay time.Duration

	// AllowRelay (ALLOW_RELAY) lets authenticated users on port 25 relay.
	AllowRelay bool
	// RelayHosts (relay.cfg) lists clients, by IP or host name, that may
	// relay without AUTH. May be nil.
	RelayHosts Matcher

	// Filter lists (Synchronet's findstr pattern files, re-read by the
	// wiring when they change). A nil list is an empty one. "Host" is the
	// forward-confirmed host name; a client without one is checked by IP
	// only.
	//
	// Before the greeting, for clients not in IPFilterExempt, in this order:
	// IPSilent (text/ip-silent.can, IP: close without a reply); the
	// temporary ban of Deps.Guard (close without a reply); SpamBlock
	// (ctrl/spamblock.cfg, IP only, unless SpamBlockExempt,
	// ctrl/spamblock_exempt.cfg, holds the IP or host: 550 and a spam.log
	// SESSION REFUSED entry); IPFilter (text/ip.can, IP: 550); HostFilter
	// (text/host.can, host: 550). Each refusal closes the connection.
	// Clients on loopback skip all but SpamBlock, which spares only the
	// server's own address.
	IPSilent        Matcher
	SpamBlock       Matcher
	SpamBlockExempt Matcher
	IPFilter        Matcher
	HostFilter      Matcher
	// IPFilterExempt (ctrl/ipfilter_exempt.cfg, IP or host) skips all the
	// connection checks above, and the temporary ban, the throttle delay
	// and the rate limit of Deps.Guard and Deps.RateLimit; by IP alone
	// (the host is not known yet) it also spares MaxConnsPerIP.
	IPFilterExempt Matcher
	// EmailFilter (text/email.can) applies to unauthenticated clients: a
	// MAIL FROM address gets 554 and a disconnect, a RCPT TO address 550
	// Unknown User, and a From header address or display name 554 after
	// DATA.
	EmailFilter Matcher
	// SubjectFilter (text/subject.can): an unauthenticated client's
	// message whose Subject matches gets 554 after DATA.
	SubjectFilter Matcher
	// TwitList (ctrl/twitlist.cfg): a message or telegram whose From
	// display name or address, or reverse path, matches gets 554 after
	// DATA, whoever sent it.
	TwitList Matcher

	// DNSBL looks the client up in DNS blacklists before the greeting;
	// nil turns DNSBL checking off. Loopback clients, clients in
	// IPFilterExempt and clients (IP or host) in DNSBLExempt are not looked
	// up. A listing never applies to an authenticated session, and a MAIL
	// FROM whose "<address>" is in DNSBLExempt clears it for the rest of
	// the session. What a listing does:
	//   - DNSBLRefuse (DNSBL_REFUSE): 550 before the greeting and close;
	//   - DNSBLBadUser (DNSBL_BADUSER): 550 and close at the first RCPT;
	//   - DNSBLIgnore (DNSBL_IGNORE): 250 at the end of DATA, nothing
	//     stored;
	//   - otherwise the message is tagged: the DNSBLHeader field is added,
	//     the Subject gets the "<DNSBLSubject>: " prefix (none when
	//     DNSBLSubject is empty) and it is stored flagged as spam.
	DNSBL DNSBLChecker
	// DNSBLExempt is ctrl/dnsbl_exempt.cfg: client IPs and host names, and
	// "<address>" sender entries. May be nil.
	DNSBLExempt                            Matcher
	DNSBLRefuse, DNSBLBadUser, DNSBLIgnore bool
	// DNSBLHeader is the header field name of a tagged message; empty
	// means DefaultDNSBLHeader.
	DNSBLHeader string
	// DNSBLSubject prefixes a tagged message's Subject (sbbs.ini
	// DNSBlacklistSubject, normally DefaultDNSBLSubject); empty leaves the
	// Subject alone.
	DNSBLSubject string
	// DNSBLThrottle (DNSBL_THROTTLE) makes a listed client wait
	// ThrottleDelay before each line it sends, message lines included
	// (spam.go). 0 for ThrottleDelay means DefaultThrottleDelay.
	DNSBLThrottle bool
	ThrottleDelay time.Duration
	// Pause is the wait of DNSBL_THROTTLE: it returns ctx's error when ctx
	// ends first (shutdown, client gone). nil means a timer; tests count
	// the pauses with their own.
	Pause func(ctx context.Context, d time.Duration) error
	// DNSBLSpamHash (DNSBL_SPAMHASH) records the body of a listed client's
	// message in the spam hash database (Deps.SpamHash); the message is
	// still delivered, tagged.
	DNSBLSpamHash bool
	// DNSBLCheckReceived (DNSBL_CHKRECVHDRS) looks up, through DNSBL, the
	// addresses named in the Received header fields of a message from an
	// unauthenticated client that is not listed itself; a listed one makes
	// that message (only) be treated as from a listed client: tagged or,
	// with DNSBLIgnore, dropped.
	DNSBLCheckReceived bool

	// SpamBait (ctrl/spambait.cfg) lists recipient addresses no person
	// uses. A RCPT TO one of them gets 250 and nothing is stored for it;
	// when the last recipient of a message was bait the whole message is
	// dropped, and its body goes into the spam hash database. An
	// unauthenticated client taking bait is appended to SpamBlockPath
	// (ctrl/spamblock.cfg), with an expiry SpamBlockDuration from now
	// when that is not 0. Empty SpamBlockPath: no automatic entries.
	SpamBait          Matcher
	SpamBlockPath     string
	SpamBlockDuration time.Duration

	// SpyList (text/smtpspy.can): a session whose client IP or host name,
	// reverse path or a recipient matches has its dialogue written to
	// SpyLogPath (logs/smtpspy.txt) from then on, AUTH data hidden.
	SpyList    Matcher
	SpyLogPath string

	// NoHostLookup (NO_HOST_LOOKUP) skips the client's reverse DNS lookup.
	NoHostLookup bool
	// LookupAddr resolves an IP to host names; nil means
	// net.DefaultResolver.LookupAddr.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	// LookupHost resolves a host name to addresses (telegram sender
	// check); nil means net.DefaultResolver.LookupHost.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Loopback decides whether a client counts as local for the port 25
	// AUTH PLAIN/LOGIN rule and the connection checks; nil means
	// net.IP.IsLoopback. A loopback address it calls remote is not the
	// server's own host either.
	Loopback func(ip net.IP) bool

	// NoNotify (NO_NOTIFY) turns new-mail telegrams off.
	NoNotify bool
	// NotifyOfflineUsers also notifies users who are not online.
	NotifyOfflineUsers bool

	// SpamLogPath is data/spam.log; empty disables it.
	SpamLogPath string
	// Logger receives the server log; nil discards it.
	Logger *slog.Logger

	// Wire tracing at debug level (Options DEBUG_*): received header
	// lines, received body lines, sent replies, received commands.
	DebugRxHeader, DebugRxBody, DebugTx, DebugRxRsp bool
	// TLSErrorLevel (sbbs.ini TLSErrorLevel) is the most severe level a
	// failed TLS handshake is logged at (netutil.TLSFailureLevel); the
	// zero value logs them at Info.
	TLSErrorLevel slog.Level
}

// withDefaults returns a copy of c with the zero values filled in.
func (c Config) withDefaults() *Config {
	if c.HostName == "" {
		c.HostName, _ = os.Hostname()
		if c.HostName == "" {
			c.HostName = "localhost"
		}
	}
	if c.MaxInactivity <= 0 {
		c.MaxInactivity = DefaultMaxInactivity
	}
	if c.MaxBadCommands <= 0 {
		c.MaxBadCommands = DefaultMaxBadCommands
	}
	if c.DNSBLHeader == "" {
		c.DNSBLHeader = DefaultDNSBLHeader
	}
	if c.ThrottleDelay <= 0 {
		c.ThrottleDelay = DefaultThrottleDelay
	}
	if c.Pause == nil {
		c.Pause = sleep
	}
	if c.LookupAddr == nil {
		c.LookupAddr = net.DefaultResolver.LookupAddr
	}
	if c.LookupHost == nil {
		c.LookupHost = net.DefaultResolver.LookupHost
	}
	if c.Loopback == nil {
		c.Loopback = func(ip net.IP) bool { return ip.IsLoopback() }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &c
}

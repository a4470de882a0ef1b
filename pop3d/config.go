package pop3d

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Config is a snapshot of the POP3 settings. A session keeps the snapshot it
// started with; Server.SetConfig affects only sessions that start later.
type Config struct {
	// HostName is the name the server gives in its greeting and in the APOP
	// timestamp.
	HostName string
	// Version is shown in the greeting and in the IMPLEMENTATION capability.
	Version string
	// TLS holds the certificate for STLS and for implicit TLS (port 995).
	// Nil means STLS is not offered and Serve refuses implicit TLS.
	TLS *tls.Config

	// DisablePlaintextAuth refuses USER/PASS and APOP on a connection
	// without TLS (before STLS on port 110), as Dovecot's
	// disable_plaintext_auth does, except from the server's own address (a
	// client whose address is the one it connected to: software on the
	// same host using 127.0.0.1, ::1 or the host's own address). Another
	// loopback address such as 127.0.0.2 counts as remote. CAPA then omits
	// USER until STLS. Off by default, as in Synchronet.
	DisablePlaintextAuth bool
	// TLSErrorLevel (sbbs.ini TLSErrorLevel) is the most severe level a
	// failed TLS handshake is logged at (netutil.TLSFailureLevel); the
	// zero value logs them at Info.
	TLSErrorLevel slog.Level

	// MaxClients limits the sessions served at once; 0 means no limit.
	MaxClients int
	// MaxConnsPerIP limits the connections from one address that have not
	// logged in yet (Synchronet's MaxConcurrentConnections); 0 means no
	// limit.
	MaxConnsPerIP int
	// IPFilterExempt (ctrl/ipfilter_exempt.cfg, IP or host name) exempts
	// clients from the filter lists below, and the temporary ban, throttle
	// and rate limit of Deps.Guard and Deps.RateLimit; by IP alone (the
	// host is not known yet) also from MaxConnsPerIP. May be nil.
	IPFilterExempt Matcher

	// Filter lists, checked before the greeting for clients that are
	// neither exempt nor on loopback (see Loopback): IPSilent
	// (text/ip-silent.can, IP) closes the connection without a word;
	// IPFilter (text/ip.can, IP) and HostFilter (text/host.can, the
	// forward-confirmed host name) answer "-ERR Access denied." and close.
	// A nil list is empty.
	IPSilent   Matcher
	IPFilter   Matcher
	HostFilter Matcher
	// Loopback decides which clients count as local and skip the filter
	// lists, as the SMTP server's do; nil means net.IP.IsLoopback. (The
	// temporary ban spares only the server's own address.)
	Loopback func(ip net.IP) bool

	// NoHostLookup (NO_HOST_LOOKUP) skips the client's reverse DNS lookup;
	// host.can then never matches.
	NoHostLookup bool
	// LookupAddr and LookupHost resolve the client's host name, which is
	// used only when it resolves back to the client; nil means
	// net.DefaultResolver.
	LookupAddr func(ctx context.Context, addr string) ([]string, error)
	LookupHost func(ctx context.Context, host string) ([]string, error)

	// MaxInactivity is how long the server waits for a command, or for the
	// client to take data, before it closes the connection. Zero means ten
	// minutes, the RFC 1939 §3 minimum.
	MaxInactivity time.Duration
	// LoginAttemptDelay is the pause before a failed login is answered.
	LoginAttemptDelay time.Duration
	// MaxBadCommands is how many unknown or malformed commands a session may
	// send before it is closed. Zero means 10.
	MaxBadCommands int

	// NoReadPOP3 (NO_READ_POP3) leaves retrieved messages unread.
	NoReadPOP3 bool
	// KillReadSpam (KILL_READ_SPAM) deletes retrieved spam at QUIT.
	KillReadSpam bool

	// Logger receives the log; nil discards it.
	Logger *slog.Logger
	// Debug (DEBUG_POP3) logs every command and reply line, except
	// passwords, at debug level.
	Debug bool
}

const (
	defaultInactivity     = 10 * time.Minute
	defaultMaxBadCommands = 10
	// maxAuthCommands is how many commands other than CAPA and STLS a client
	// may send before it has logged in.
	maxAuthCommands = 5
	// maxFreeCommands bounds CAPA and STLS before login, so a client cannot
	// hold a connection slot with them forever.
	maxFreeCommands = 10
	// maxLine is the RFC 2449 §4 limit for a command line, CRLF included.
	maxLine = 255
)

// withDefaults returns a copy of c with zero values filled in.
func (c Config) withDefaults() *Config {
	if c.MaxInactivity <= 0 {
		c.MaxInactivity = defaultInactivity
	}
	if c.MaxBadCommands <= 0 {
		c.MaxBadCommands = defaultMaxBadCommands
	}
	if c.LoginAttemptDelay < 0 {
		c.LoginAttemptDelay = 0
	}
	if c.HostName == "" {
		c.HostName = "localhost"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Loopback == nil {
		c.Loopback = func(ip net.IP) bool { return ip.IsLoopback() }
	}
	if c.LookupAddr == nil {
		c.LookupAddr = net.DefaultResolver.LookupAddr
	}
	if c.LookupHost == nil {
		c.LookupHost = net.DefaultResolver.LookupHost
	}
	return &c
}

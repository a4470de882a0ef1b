package sendmail

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Relay authentication mechanisms (Synchronet's RELAY_AUTH_* options).
const (
	AuthNone    = "none"
	AuthPlain   = "plain"
	AuthLogin   = "login"
	AuthCRAMMD5 = "cram-md5"
)

// Defaults applied by New to zero Config fields. They are Synchronet's
// defaults where Synchronet has the setting. Concurrency and PerHost are
// ours: eight connections to one server, each carrying up to 100
// transactions, deliver thousands of messages a second, while staying well
// under what receiving servers allow one client (Postfix's smtpd allows 50
// connections per client, and Postfix itself opens up to 20 to one
// destination); sixteen deliveries let two busy destinations go out at
// full speed at once. See docs/sendmail.md.
const (
	DefaultConnectTimeout  = 30 * time.Second
	DefaultIOTimeout       = 2 * time.Minute // MaxInactivity
	DefaultDataTimeout     = 10 * time.Minute
	DefaultMaxAttempts     = 50
	DefaultRescanFrequency = time.Hour
	DefaultConcurrency     = 16
	DefaultPerHost         = 8
	DefaultMXPort          = 25
	DefaultShutdownGrace   = time.Minute
	DefaultClaimBatch      = 64
)

// Config holds the plain values the Sender runs with. The wiring fills it
// from sbbs.ini [Mail]; zero values take the defaults above.
type Config struct {
	// HostName is the name given in EHLO, and the host that reports
	// delivery failures.
	HostName string

	// RelayTx sends every message through RelayServer:RelayPort.
	RelayTx       bool
	RelayServer   string
	RelayPort     int // 25 when zero
	RelayUsername string
	RelayPassword string
	// RelayAuth is one of AuthNone (or ""), AuthPlain, AuthLogin, AuthCRAMMD5.
	RelayAuth string

	// DNSServer is the resolver used for MX lookups: "" or "<auto>" reads
	// /etc/resolv.conf; otherwise "host" (port 53) or "host:port".
	DNSServer string
	// DNSTCP queries over TCP (USE_TCP_DNS). UDP answers that come back
	// truncated are retried over TCP either way.
	DNSTCP bool
	// ResolvConf overrides /etc/resolv.conf for DNSServer "<auto>".
	ResolvConf string

	// OutboundInterface and OutboundV6Interface are the local addresses
	// outgoing IPv4 and IPv6 connections are bound to; blank lets the
	// system choose.
	OutboundInterface   string
	OutboundV6Interface string

	ConnectTimeout time.Duration // per TCP connect
	IOTimeout      time.Duration // per read or write (MaxInactivity)
	DataTimeout    time.Duration // for the reply to the final "." (RFC 5321 §4.5.3.2.6)

	MaxAttempts     int           // MaxDeliveryAttempts
	RescanFrequency time.Duration // longest wait between queue scans
	SendInTransit   bool          // SEND_INTRANSIT: claim in-transit entries on start-up
	Concurrency     int           // deliveries at once
	PerHost         int           // connections at once to one destination host
	ClaimBatch      int           // entries claimed per scan
	ShutdownGrace   time.Duration // how long Run waits for deliveries after ctx ends

	// MXPort is the port used for MX (and implicit MX) deliveries. It
	// exists so tests can run receiving peers on loopback high ports;
	// production configurations leave it at 25. While it is 25, mail
	// exchangers on loopback addresses are refused like the other
	// addresses DNS must not send us to (see unroutable); on another port
	// loopback is allowed, and only loopback.
	MXPort int

	// RefusePrivate refuses mail exchangers on private addresses (RFC 1918,
	// RFC 4193) as well (SendMailRefusePrivate); off, a LAN or split-DNS
	// setup keeps working.
	RefusePrivate bool
	// OwnAddr reports whether ip is on one of this machine's interfaces: a
	// mail exchanger there would be a mail loop. Nil means none is.
	OwnAddr func(ip netip.Addr) bool

	// LocalDomains are the BBS's own domains. Mail for them should never be
	// queued; if it is, it goes to 127.0.0.1 (or OutboundInterface) on
	// SMTPPort, as Synchronet does, instead of following the MX records.
	// With SMTPPort zero, local domains are not special.
	LocalDomains []string
	SMTPPort     int

	// NoAutoExempt disables the dnsbl_exempt.cfg growth (NO_AUTO_EXEMPT).
	NoAutoExempt bool
	// ExemptFile is ctrl/dnsbl_exempt.cfg; blank disables auto-exempting.
	ExemptFile string
	// IsExempt reports whether an address is already exempt by a pattern
	// in ExemptFile; the file is also searched for the exact entry, so nil
	// is fine.
	IsExempt func(addr string) bool

	// TLSConfig is the base for outgoing STARTTLS. Nil means no
	// certificate checks, as MTAs do for opportunistic TLS (RFC 7435).
	// ClearRelayAuth says whether the relay at this address may receive
	// the relay password without TLS; nil means only a relay on loopback.
	// Tests set it to stand in for a remote relay.
	ClearRelayAuth func(net.Addr) bool

	TLSConfig *tls.Config
	// DisableTLS never sends STARTTLS.
	DisableTLS bool

	Logger  *slog.Logger
	DebugTX bool // log every command sent (DEBUG_TX)
	DebugRX bool // log every reply received (DEBUG_RX_RSP)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.HostName == "" {
		c.HostName = "localhost"
	}
	if c.RelayPort == 0 {
		c.RelayPort = 25
	}
	c.RelayAuth = strings.ToLower(strings.TrimSpace(c.RelayAuth))
	if c.RelayAuth == "" {
		c.RelayAuth = AuthNone
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.ConnectTimeout, DefaultConnectTimeout)
	setDur(&c.IOTimeout, DefaultIOTimeout)
	setDur(&c.DataTimeout, DefaultDataTimeout)
	setDur(&c.RescanFrequency, DefaultRescanFrequency)
	setDur(&c.ShutdownGrace, DefaultShutdownGrace)
	setInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	setInt(&c.MaxAttempts, DefaultMaxAttempts)
	setInt(&c.Concurrency, DefaultConcurrency)
	setInt(&c.PerHost, DefaultPerHost)
	setInt(&c.MXPort, DefaultMXPort)
	setInt(&c.ClaimBatch, DefaultClaimBatch)
	if c.ClearRelayAuth == nil {
		c.ClearRelayAuth = isLoopback
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Backoff returns how long to wait after the given number of failed
// attempts (1 for the first failure) before trying again: 1m, 5m, 15m, 30m,
// 1h, then rescan. Short early steps catch greylisting and brief outages.
// RescanFrequency is the sysop's retry interval, so no step waits longer
// than it: with RescanFrequency = 2s every retry comes within two seconds.
func Backoff(attempts int, rescan time.Duration) time.Duration {
	steps := [...]time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}
	if attempts >= 1 && attempts <= len(steps) {
		return min(steps[attempts-1], rescan)
	}
	if attempts < 1 {
		return min(steps[0], rescan)
	}
	return rescan
}

package ctrl

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// Config is one loaded, validated control directory. It is never modified
// after Load returns, so sessions can share it; a reload builds a new one.
// The pattern lists inside re-read their files when those change.
type Config struct {
	Paths  Paths
	Mail   Mail   // sbbs.ini [Mail] with [Global] fallbacks and defaults
	System System // main.ini and msgs.ini
	Lists  Lists  // the .cfg and .can filter lists
	Unix   Unix   // sbbs.ini [UNIX]: user, group, umask, PID file

	// FidoNet is how netmail meets the FidoNet mailer: sbbsecho.ini's
	// settings when it exists, else sbbs.ini [Mail]'s Fido keys.
	FidoNet FidoNet

	Aliases []AliasLine // ctrl/alias.cfg in file order (first match wins)
	DNSBL   []DNSBL     // ctrl/dns_blacklist.cfg in file order

	// Warnings are things a sysop should fix that do not stop the server,
	// such as unknown keys in [Mail]; `bbsmail check` prints them.
	Warnings []string
	// Notices are settings the sysop wrote that bbsmail accepts and does
	// not act on ("no effect in bbsmail"); serve logs them at Notice and
	// `bbsmail check` prints them.
	Notices []string

	settings []Setting
}

// Paths are the absolute directories and files of the BBS tree.
type Paths struct {
	Ctrl string // the control directory
	Data string // main.ini [dir] data, default ../data
	Text string // main.ini [dir] text, default ../text
	Temp string // [Mail] or [Global] TempDirectory, default ../temp
	Exec string // main.ini [dir] exec, default ../exec
	Mods string // main.ini [dir] mods, default ../mods
	Logs string // main.ini [dir] logs, default the data directory

	SBBSIni string // the sbbs.ini actually read (sbbs.<host>.ini if present)
	MainIni string
	MsgsIni string
	SSLCert string // ctrl/ssl.cert (PEM); created elsewhere when missing
	SSLKey  string // ctrl/ssl.key
}

// Mail holds the effective [Mail] settings. Durations and sizes are already
// converted; every field has the value the server should use.
type Mail struct {
	AutoStart         bool
	Interfaces        []string // Interface: addresses (or addr:port) for SMTP
	POP3Interfaces    []string // POP3Interface, falling back to [Global] Interface
	OutboundInterface string   // local IPv4 address for outgoing connections
	OutboundV6        string   // OutboundV6Interface
	HostName          string   // blank: use System.InetAddr

	SMTPPort          int
	SubmissionPort    int
	TLSSubmissionPort int
	POP3Port          int
	TLSPOP3Port       int

	MaxClients               int // 0: Synchronet uses the node count; treat as 10 at least
	MaxConcurrentConnections int // per IP, 0 = unlimited
	MaxInactivity            time.Duration
	MaxRecipients            int   // 0 = unlimited
	MaxMsgSize               int64 // bytes, 0 = unlimited
	MaxDataInFlight          int64 // bbsmail: message text held in memory by all DATA at once, 0 = unlimited
	MaxMsgsWaiting           int   // 0 = unlimited
	MaxBadCommands           int   // bbsmail: disconnect after more bad commands than this
	LinesPerYield            int   // accepted; Go schedules without it
	MaxRequestsPerPeriod     int   // 0 = no rate limit
	RequestRateLimitPeriod   time.Duration
	RateLimitSubnetPrefix4   int // rate-limit IPv4 clients per /n; 0 = per address
	RateLimitSubnetPrefix6   int // rate-limit IPv6 clients per /n; 0 = per address
	// RateLimitFilterThreshold rate-limit refusals of one client (or
	// subnet) while it stays active add it to ip.can (or ip-silent.can
	// with RateLimitFilterSilent) for RateLimitFilterDuration (0 = for
	// good); 0 turns this off. A subnet is filtered whole only once
	// RateLimitFilterSubnetThreshold of its addresses were refused.
	RateLimitFilterThreshold       int
	RateLimitFilterDuration        time.Duration
	RateLimitFilterSilent          bool
	RateLimitFilterSubnetThreshold int

	MaxDeliveryAttempts int
	RescanFrequency     time.Duration
	ConnectTimeout      time.Duration
	SemFileCheck        time.Duration // SemFileCheckFrequency
	RelayServer         string
	RelayPort           int
	RelayUsername       string
	RelayPassword       string // never printed by Dump
	DNSServer           string // blank or <auto>: the system resolver
	SendMailConcurrency int    // bbsmail: deliveries in parallel
	SendMailPerHost     int    // bbsmail: connections per destination host
	MXPort              int    // bbsmail: port for direct MX delivery (tests only)
	// SendMailRefusePrivate (bbsmail): SendMail refuses mail exchangers
	// on private addresses too.
	SendMailRefusePrivate bool

	DefaultUser         string
	PostTo              string
	ArchiveRequirements string
	LoginRequirements   string
	// ArchiveARS and LoginARS are the two strings above, parsed; nil when
	// blank.
	ArchiveARS         *ars.Expr
	LoginARS           *ars.Expr
	NotifyOfflineUsers bool
	// DisablePlaintextAuth (bbsmail's, named after Dovecot's
	// disable_plaintext_auth) refuses POP3 USER/PASS and APOP before STLS
	// from any client but the server's own address.
	DisablePlaintextAuth bool
	SpamBlockDuration    time.Duration // 0 = spamblock entries never expire
	DNSBLHeader          string        // DNSBlacklistHeader
	DNSBLSubject         string        // DNSBlacklistSubject
	DefaultCharset       string        // accepted, unused (as in Synchronet)
	DKIMSign             bool
	DKIMDomain           string
	DKIMSelector         string
	// bbsmail: SPF, DKIM and DMARC checks of mail from unauthenticated
	// clients (docs/mail-auth.md). The three rules are off by default.
	MailAuthCheck   bool
	MailAuthTimeout time.Duration // for all the lookups of one message
	DMARCReject     bool          // refuse DMARC failures under p=reject
	DMARCQuarantine bool          // tag DMARC failures under p=quarantine (and p=reject without DMARCReject)
	SPFFail         string        // accept, tag or refuse an SPF fail

	// FidoNet netmail, used when ctrl/sbbsecho.ini is absent (the
	// directories, FidoUplink and its password) and always (FidoCharset,
	// FidoFrequency). See Config.FidoNet for the effective values.
	FidoOutbound        string
	FidoInbound         string
	FidoSecureInbound   string
	FidoUplink          string
	FidoUplinkPacketPwd string
	FidoCharset         string
	FidoFrequency       time.Duration
	// FidoUnknownUser is what becomes of inbound netmail for a name no
	// user has: "sysop" (DefaultRecipient, else user #1) or "bounce" (a
	// netmail back to the sender).
	FidoUnknownUser string
	// QWKPacketDir is where REP packets go and QWK packets are read (data/
	// is read too); "" means data/qnet. Relative to ctrl/.
	QWKPacketDir string

	LogLevel       LogLevel
	TLSErrorLevel  LogLevel
	BindRetryCount int
	BindRetryDelay time.Duration

	MetricsPort      int    // bbsmail: Prometheus text endpoint; 0 = off
	MetricsInterface string // bbsmail: its address, loopback by default

	LoginAttemptDelay            time.Duration
	LoginAttemptThrottle         time.Duration
	LoginAttemptHackThreshold    int
	LoginAttemptTempBanThreshold int
	LoginAttemptTempBanDuration  time.Duration
	LoginAttemptFilterThreshold  int           // 0 = off
	LoginAttemptFilterDuration   time.Duration // 0 = permanent

	JavaScriptMaxBytes      int64
	JavaScriptTimeLimit     int64 // ticks of 100 ms
	JavaScriptGcInterval    int64
	JavaScriptYieldInterval int64
	JavaScriptLoadPath      string
	JavaScriptOptions       string

	TempDirectory string // as configured ("" = default); Paths.Temp is resolved
	Options       Options

	ignoredOptions []string // Options names bbsmail does not know; warned about at load
}

// System is the BBS itself, from main.ini and msgs.ini.
type System struct {
	Name     string // main.ini name
	QWKID    string // main.ini qwk_id, upper case
	Operator string // main.ini operator: the sysop's name
	InetAddr string // msgs.ini [Internet] addr, else main.ini inetaddr

	SysMisc  uint32 // main.ini settings (Synchronet sys_misc bits)
	Login    uint32 // main.ini login (LOGIN_* bits)
	MsgMisc  uint32 // msgs.ini settings (msg_misc bits)
	FidoAddr []FidoAddr

	Groups  []Group
	Subs    []Sub
	QWKHubs []QWKHub
}

// Bits in System.SysMisc, System.Login and System.MsgMisc. Values from
// Synchronet's sbbsdefs.h (SM_FWDTONET, SM_DELREADM, LOGIN_USERNUM,
// LOGIN_REALNAME, MM_REALNAME).
const (
	SMForwardToNet  uint32 = 1 << 26 // SM_FWDTONET: "Allow Forwarding to NetMail"
	SMKillReadMail  uint32 = 1 << 27 // SM_DELREADM: "Kill Read E-mail"
	LoginByNumber   uint32 = 1 << 0  // LOGIN_USERNUM
	LoginByRealName uint32 = 1 << 1  // LOGIN_REALNAME
	MMRealName      uint32 = 1 << 16 // MM_REALNAME: "Receive E-mail by Real Name"
)

// ForwardToNetmail reports "Allow Forwarding to NetMail".
func (s *System) ForwardToNetmail() bool { return s.SysMisc&SMForwardToNet != 0 }

// KillReadMail reports "Kill Read E-mail".
func (s *System) KillReadMail() bool { return s.SysMisc&SMKillReadMail != 0 }

// LoginNumber reports whether users may log in by user number.
func (s *System) LoginNumber() bool { return s.Login&LoginByNumber != 0 }

// LoginRealName reports whether users may log in by real name.
func (s *System) LoginRealName() bool { return s.Login&LoginByRealName != 0 }

// RealNameMail reports "Receive E-mail by Real Name".
func (s *System) RealNameMail() bool { return s.MsgMisc&MMRealName != 0 }

// Sub finds a sub-board by internal code, case-insensitively.
func (s *System) Sub(code string) (Sub, bool) {
	for _, sb := range s.Subs {
		if strings.EqualFold(sb.Code, code) {
			return sb, true
		}
	}
	return Sub{}, false
}

// QWKHub finds a configured QWK hub by id, case-insensitively.
func (s *System) QWKHub(id string) (QWKHub, bool) {
	for _, h := range s.QWKHubs {
		if strings.EqualFold(h.ID, id) {
			return h, true
		}
	}
	return QWKHub{}, false
}

// Group is a message group ([grp:NAME] in msgs.ini).
type Group struct {
	Name        string
	Description string
	CodePrefix  string
	ARS         string // ars: who may see the group's sub-boards at all
}

// Sub is a message sub-board ([sub:GROUP:CODE] in msgs.ini).
type Sub struct {
	Group       string
	Code        string // internal code: the group's code_prefix + CODE
	Name        string
	Description string
	ARS         string // ars: who may see the sub-board at all
	PostARS     string // post_ars: who may post
}

// QWKHub is a QWK network hub ([qhub:ID] in msgs.ini).
type QWKHub struct {
	ID      string
	Enabled bool
}

// FidoAddr is a FidoNet address zone:net/node[.point][@domain].
type FidoAddr struct {
	Zone, Net, Node, Point int
	Domain                 string
}

func (a FidoAddr) String() string {
	s := fmt.Sprintf("%d:%d/%d", a.Zone, a.Net, a.Node)
	if a.Point != 0 {
		s += fmt.Sprintf(".%d", a.Point)
	}
	if a.Domain != "" {
		s += "@" + a.Domain
	}
	return s
}

// Lists are the filter lists, each re-read when its file changes. A missing
// file is an empty list.
type Lists struct {
	// ctrl/
	Relay           *pattern.File // relay.cfg: hosts/IPs allowed to relay unauthenticated
	Domains         *pattern.File // domains.cfg: extra local domains
	DNSBLExempt     *pattern.File // dnsbl_exempt.cfg
	SpamBlock       *pattern.File // spamblock.cfg (IP only)
	SpamBlockExempt *pattern.File // spamblock_exempt.cfg
	SpamBait        *pattern.File // spambait.cfg
	TwitList        *pattern.File // twitlist.cfg
	IPFilterExempt  *pattern.File // ipfilter_exempt.cfg
	// text/
	Email    *pattern.File // email.can
	Subject  *pattern.File // subject.can
	IP       *pattern.File // ip.can
	IPSilent *pattern.File // ip-silent.can
	Host     *pattern.File // host.can
	Name     *pattern.File // name.can
	SMTPSpy  *pattern.File // smtpspy.can
}

// AliasLine is one alias.cfg line: "<alias> <value>". Matching and
// substitution rules belong to the router.
type AliasLine struct {
	Name  string
	Value string
	Line  int
}

// DNSBL is one dns_blacklist.cfg line.
type DNSBL struct {
	Zone string // first word
	Note string // the rest of the line
	Line string // the whole trimmed line; Synchronet quotes it in replies
}

// IsLocalDomain reports whether mail for domain is delivered here: the
// system address, HostName or an entry of domains.cfg.
func (c *Config) IsLocalDomain(domain string) bool {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	if d == "" {
		return false
	}
	if strings.EqualFold(d, c.System.InetAddr) || (c.Mail.HostName != "" && strings.EqualFold(d, c.Mail.HostName)) {
		return true
	}
	return c.Lists.Domains.Match(d)
}

// Host is the name the server announces: HostName, else the system address.
func (c *Config) Host() string {
	if c.Mail.HostName != "" {
		return c.Mail.HostName
	}
	return c.System.InetAddr
}

// SMTPBlock returns the list of blocked address tags of a user,
// data/user/NNNN.smtpblock.
func (c *Config) SMTPBlock(user int) *pattern.File {
	return pattern.NewFile(filepath.Join(c.Paths.Data, "user", fmt.Sprintf("%04d.smtpblock", user)))
}

// Settings returns every [Global]/[Mail] key with its effective value and
// origin, in table order (what Dump prints).
func (c *Config) Settings() []Setting { return append([]Setting(nil), c.settings...) }

// Setting is one key of the effective configuration.
type Setting struct {
	Key    string // as Synchronet spells it
	Value  string // RelayPassword is "(set)" or ""
	Source string // "default", "sbbs.ini:12 [Mail]" or "sbbs.ini:40 [Global]"
}

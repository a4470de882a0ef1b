package ctrl

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ars"
)

// keyDef is one row of the [Mail] key table: the single place that says
// which keys exist, their defaults (in sbbs.ini syntax, Synchronet's code
// defaults) and which [Global] key fills in when [Mail] leaves one blank.
// Load and Dump both walk it.
type keyDef struct {
	Name    string // as Synchronet spells it
	Global  string // [Global] key to fall back to; "" = none
	Default string
	Value   value // parses into, and formats, one Mail field
}

// value is a typed binding to one Mail field.
type value interface {
	Set(s string) error
	String() string
}

// keyTable binds the table to the fields of m. It is built per call so no
// table state outlives a Load.
func keyTable(m *Mail) []keyDef {
	const maxInt = math.MaxInt32
	return []keyDef{
		{"AutoStart", "", "true", boolV{&m.AutoStart}},
		{"Interface", "Interface", "0.0.0.0,::", ifaceV{&m.Interfaces}},
		// POP3Interface falls back to the GLOBAL Interface, not to [Mail]'s.
		{"POP3Interface", "Interface", "0.0.0.0,::", ifaceV{&m.POP3Interfaces}},
		{"OutboundInterface", "OutboundInterface", "", addrV{&m.OutboundInterface}},
		{"OutboundV6Interface", "OutboundV6Interface", "", addrV{&m.OutboundV6}},
		{"HostName", "HostName", "", strV{&m.HostName}},
		{"TempDirectory", "TempDirectory", "", strV{&m.TempDirectory}},

		{"SMTPPort", "", "25", intV{&m.SMTPPort, 0, 65535}},
		{"SubmissionPort", "", "587", intV{&m.SubmissionPort, 0, 65535}},
		{"TLSSubmissionPort", "", "465", intV{&m.TLSSubmissionPort, 0, 65535}},
		{"POP3Port", "", "110", intV{&m.POP3Port, 0, 65535}},
		{"TLSPOP3Port", "", "995", intV{&m.TLSPOP3Port, 0, 65535}},

		{"MaxClients", "", "100", intV{&m.MaxClients, 0, maxInt}},
		{"MaxConcurrentConnections", "", "0", intV{&m.MaxConcurrentConnections, 0, maxInt}},
		{"MaxInactivity", "", "2m", durV{&m.MaxInactivity, time.Second}},
		{"MaxRecipients", "", "100", intV{&m.MaxRecipients, 0, maxInt}},
		{"MaxMsgSize", "", "20M", sizeV{&m.MaxMsgSize}},
		{"MaxDataInFlight", "", "256M", sizeV{&m.MaxDataInFlight}},
		{"MaxMsgsWaiting", "", "100", intV{&m.MaxMsgsWaiting, 0, maxInt}},
		{"MaxBadCommands", "", "10", intV{&m.MaxBadCommands, 1, maxInt}},
		{"LinesPerYield", "", "10", intV{&m.LinesPerYield, 0, maxInt}},
		{"MaxRequestsPerPeriod", "", "0", intV{&m.MaxRequestsPerPeriod, 0, maxInt}},
		{"RequestRateLimitPeriod", "", "1h", durV{&m.RequestRateLimitPeriod, time.Second}},
		// 0 (or the full length) counts each address apart.
		{"RateLimitSubnetPrefix4", "", "0", intV{&m.RateLimitSubnetPrefix4, 0, 32}},
		{"RateLimitSubnetPrefix6", "", "64", intV{&m.RateLimitSubnetPrefix6, 0, 128}},
		{"RateLimitFilterThreshold", "", "0", intV{&m.RateLimitFilterThreshold, 0, maxInt}},
		{"RateLimitFilterDuration", "", "0", durV{&m.RateLimitFilterDuration, time.Second}},
		{"RateLimitFilterSilent", "", "false", boolV{&m.RateLimitFilterSilent}},
		// Synchronet raises 0 to 1 (the subnet goes on its first offender).
		{"RateLimitFilterSubnetThreshold", "", "2", intV{&m.RateLimitFilterSubnetThreshold, 0, maxInt}},

		{"MaxDeliveryAttempts", "", "50", intV{&m.MaxDeliveryAttempts, 1, maxInt}},
		{"RescanFrequency", "", "1h", durV{&m.RescanFrequency, time.Second}},
		{"ConnectTimeout", "", "30s", durV{&m.ConnectTimeout, time.Second}},
		{"SemFileCheckFrequency", "SemFileCheckFrequency", "2s", durV{&m.SemFileCheck, time.Second}},
		{"RelayServer", "", "", strV{&m.RelayServer}},
		{"RelayPort", "", "25", intV{&m.RelayPort, 1, 65535}},
		{"RelayUsername", "", "", strV{&m.RelayUsername}},
		{"RelayPassword", "", "", secretV{&m.RelayPassword}},
		{"DNSServer", "", "", strV{&m.DNSServer}},
		{"SendMailConcurrency", "", "16", intV{&m.SendMailConcurrency, 1, 1000}},
		{"SendMailPerHost", "", "8", intV{&m.SendMailPerHost, 1, 1000}},
		{"MXPort", "", "25", intV{&m.MXPort, 1, 65535}},
		{"SendMailRefusePrivate", "", "false", boolV{&m.SendMailRefusePrivate}},

		{"DefaultUser", "", "", strV{&m.DefaultUser}},
		{"PostTo", "", "", strV{&m.PostTo}},
		{"ArchiveRequirements", "", "", arsV{&m.ArchiveRequirements, &m.ArchiveARS}},
		{"LoginRequirements", "LoginRequirements", "", arsV{&m.LoginRequirements, &m.LoginARS}},
		{"NotifyOfflineUsers", "", "false", boolV{&m.NotifyOfflineUsers}},
		{"DisablePlaintextAuth", "", "false", boolV{&m.DisablePlaintextAuth}},
		{"SpamBlockDuration", "", "0", durV{&m.SpamBlockDuration, time.Second}},
		{"DNSBlacklistHeader", "", "X-DNSBL", strV{&m.DNSBLHeader}},
		{"DNSBlacklistSubject", "", "SPAM", strV{&m.DNSBLSubject}},
		{"DefaultCharset", "", "", strV{&m.DefaultCharset}},
		{"DKIMSign", "", "false", boolV{&m.DKIMSign}},
		{"DKIMDomain", "", "", strV{&m.DKIMDomain}},
		{"DKIMSelector", "", "mail", strV{&m.DKIMSelector}},
		{"MailAuthCheck", "", "true", boolV{&m.MailAuthCheck}},
		{"MailAuthTimeout", "", "20s", durV{&m.MailAuthTimeout, time.Second}},
		{"DMARCReject", "", "false", boolV{&m.DMARCReject}},
		{"DMARCQuarantine", "", "false", boolV{&m.DMARCQuarantine}},
		{"SPFFail", "", "accept", enumV{&m.SPFFail, []string{"accept", "tag", "refuse"}}},

		// FidoNet netmail (docs/fidonet.md); sbbsecho.ini, when present,
		// wins for the directories and links.
		{"FidoOutbound", "", "../fido/outbound", strV{&m.FidoOutbound}},
		{"FidoInbound", "", "../fido/nonsecure", strV{&m.FidoInbound}},
		{"FidoSecureInbound", "", "../fido/inbound", strV{&m.FidoSecureInbound}},
		{"FidoUplink", "", "", strV{&m.FidoUplink}},
		{"FidoUplinkPacketPwd", "", "", secretV{&m.FidoUplinkPacketPwd}},
		{"FidoCharset", "", "CP437", strV{&m.FidoCharset}},
		{"FidoFrequency", "", "1m", durV{&m.FidoFrequency, time.Second}},
		{"FidoUnknownUser", "", "sysop", enumV{&m.FidoUnknownUser, []string{"sysop", "bounce"}}},
		// QWK netmail (docs/qwknet.md): where REP packets are written and
		// QWK packets read besides data/; "" is data/qnet.
		{"QWKPacketDir", "", "", strV{&m.QWKPacketDir}},

		{"LogLevel", "LogLevel", "Informational", levelV{&m.LogLevel}},
		{"TLSErrorLevel", "TLSErrorLevel", "Warning", levelV{&m.TLSErrorLevel}},
		{"BindRetryCount", "BindRetryCount", "2", intV{&m.BindRetryCount, 0, maxInt}},
		{"BindRetryDelay", "BindRetryDelay", "15s", durV{&m.BindRetryDelay, time.Second}},
		// bbsmail: the Prometheus endpoint, off unless MetricsPort is set.
		{"MetricsPort", "", "0", intV{&m.MetricsPort, 0, 65535}},
		{"MetricsInterface", "", "127.0.0.1", addrV{&m.MetricsInterface}},

		// Synchronet keeps these two in milliseconds.
		{"LoginAttemptDelay", "LoginAttemptDelay", "5000", durV{&m.LoginAttemptDelay, time.Millisecond}},
		{"LoginAttemptThrottle", "LoginAttemptThrottle", "1000", durV{&m.LoginAttemptThrottle, time.Millisecond}},
		{"LoginAttemptHackThreshold", "LoginAttemptHackThreshold", "10", intV{&m.LoginAttemptHackThreshold, 0, maxInt}},
		{"LoginAttemptTempBanThreshold", "LoginAttemptTempBanThreshold", "20", intV{&m.LoginAttemptTempBanThreshold, 0, maxInt}},
		{"LoginAttemptTempBanDuration", "LoginAttemptTempBanDuration", "10m", durV{&m.LoginAttemptTempBanDuration, time.Second}},
		{"LoginAttemptFilterThreshold", "LoginAttemptFilterThreshold", "0", intV{&m.LoginAttemptFilterThreshold, 0, maxInt}},
		{"LoginAttemptFilterDuration", "LoginAttemptFilterDuration", "0", durV{&m.LoginAttemptFilterDuration, time.Second}},

		{"JavaScriptMaxBytes", "JavaScriptMaxBytes", "16M", sizeV{&m.JavaScriptMaxBytes}},
		{"JavaScriptTimeLimit", "JavaScriptTimeLimit", "864000", int64V{&m.JavaScriptTimeLimit}},
		{"JavaScriptGcInterval", "JavaScriptGcInterval", "100", int64V{&m.JavaScriptGcInterval}},
		{"JavaScriptYieldInterval", "JavaScriptYieldInterval", "10000", int64V{&m.JavaScriptYieldInterval}},
		{"JavaScriptLoadPath", "JavaScriptLoadPath", "load", strV{&m.JavaScriptLoadPath}},
		{"JavaScriptOptions", "JavaScriptOptions", "", strV{&m.JavaScriptOptions}},

		// v3.17 to v3.19 kept the new-mail telegram texts here; later
		// releases moved them to text.dat. bbsmail's telegrams have fixed
		// wording: the keys load with a notice (noEffectKeys).
		{"NewMailNotice", "", "", &ignoredV{}},
		{"ForwardNotice", "", "", &ignoredV{}},

		// Windows sound keys: accepted so stock files load, never used.
		{"POP3Sound", "", "", &ignoredV{}},
		{"InboundSound", "", "", &ignoredV{}},
		{"OutboundSound", "", "", &ignoredV{}},

		{"Options", "", "ALLOW_POP3", optsV{&m.Options, &m.ignoredOptions}},
	}
}

type strV struct{ p *string }

func (v strV) Set(s string) error { *v.p = s; return nil }
func (v strV) String() string     { return *v.p }

// arsV is an access requirement string: a malformed one stops startup
// with the column it went wrong at, rather than locking everyone out (or
// in) at run time.
type arsV struct {
	s *string
	e **ars.Expr
}

func (v arsV) Set(s string) error {
	e, err := ars.Parse(s)
	if err != nil {
		return err
	}
	*v.s, *v.e = s, e
	return nil
}
func (v arsV) String() string { return *v.s }

// enumV is one of a few words, compared without case.
type enumV struct {
	p     *string
	words []string
}

func (v enumV) Set(s string) error {
	for _, w := range v.words {
		if strings.EqualFold(strings.TrimSpace(s), w) {
			*v.p = w
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", s, strings.Join(v.words, ", "))
}
func (v enumV) String() string { return *v.p }

type secretV struct{ p *string }

func (v secretV) Set(s string) error { *v.p = s; return nil }
func (v secretV) String() string {
	if *v.p == "" {
		return ""
	}
	return "(set)"
}

type ignoredV struct{ s string }

func (v *ignoredV) Set(s string) error { v.s = s; return nil }
func (v *ignoredV) String() string {
	if v.s == "" {
		return ""
	}
	return v.s + " (ignored)"
}

type intV struct {
	p      *int
	lo, hi int64
}

func (v intV) Set(s string) error {
	n, err := parseInt(s, v.lo, v.hi)
	if err == nil {
		*v.p = int(n)
	}
	return err
}
func (v intV) String() string { return strconv.Itoa(*v.p) }

type int64V struct{ p *int64 }

func (v int64V) Set(s string) error {
	n, err := parseInt(s, 0, math.MaxInt64)
	if err == nil {
		*v.p = n
	}
	return err
}
func (v int64V) String() string { return strconv.FormatInt(*v.p, 10) }

type boolV struct{ p *bool }

func (v boolV) Set(s string) error {
	b, err := ParseBool(s)
	if err == nil {
		*v.p = b
	}
	return err
}
func (v boolV) String() string { return strconv.FormatBool(*v.p) }

type sizeV struct{ p *int64 }

func (v sizeV) Set(s string) error {
	n, err := ParseSize(s)
	if err == nil {
		*v.p = n
	}
	return err
}
func (v sizeV) String() string { return FormatSize(*v.p) }

type durV struct {
	p    *time.Duration
	unit time.Duration
}

func (v durV) Set(s string) error {
	d, err := ParseDuration(s, v.unit)
	if err == nil {
		*v.p = d
	}
	return err
}
func (v durV) String() string { return FormatDuration(*v.p) }

type levelV struct{ p *LogLevel }

func (v levelV) Set(s string) error {
	l, err := ParseLogLevel(s)
	if err == nil {
		*v.p = l
	}
	return err
}
func (v levelV) String() string { return v.p.String() }

// optsV parses Options leniently; names it ignores are kept in ignored
// for the loader to warn about.
type optsV struct {
	p       *Options
	ignored *[]string
}

func (v optsV) Set(s string) error {
	o, ignored, err := ParseOptionsLax(s)
	if err == nil {
		*v.p = o
		*v.ignored = ignored
	}
	return err
}
func (v optsV) String() string { return v.p.String() }

// ifaceV is a comma-separated list of listening addresses: IPv4 or IPv6
// literals, optionally with a port ("127.0.0.1:2525", "[::1]:2525").
type ifaceV struct{ p *[]string }

func (v ifaceV) Set(s string) error {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if err := checkAddr(a, true); err != nil {
			return err
		}
		out = append(out, a)
	}
	*v.p = out
	return nil
}
func (v ifaceV) String() string { return strings.Join(*v.p, ",") }

// addrV is a single local address for outgoing connections.
type addrV struct{ p *string }

func (v addrV) Set(s string) error {
	s = strings.TrimSpace(s)
	if s != "" {
		if err := checkAddr(s, false); err != nil {
			return err
		}
	}
	*v.p = s
	return nil
}
func (v addrV) String() string { return *v.p }

func checkAddr(a string, portOK bool) error {
	if _, err := netip.ParseAddr(a); err == nil {
		return nil
	}
	if portOK {
		if _, err := netip.ParseAddrPort(a); err == nil {
			return nil
		}
	}
	return fmt.Errorf("invalid IP address %q", a)
}

// FormatSize prints a byte count the way sbbs.ini writes it: "20M" when
// it is a whole number of K, M or G, else plain bytes.
func FormatSize(n int64) string {
	for _, u := range []struct {
		suf  string
		mult int64
	}{{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suf
		}
	}
	return strconv.FormatInt(n, 10)
}

// FormatDuration prints a duration in the largest whole unit: "2m", "1h",
// "30s", "250ms"; 0 is "0".
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		suf  string
		unit time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d != 0 && d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.suf
		}
	}
	return d.String()
}

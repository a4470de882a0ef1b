package ctrl

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Options is the [Mail] Options bit set. Bits 0-31 keep Synchronet's
// positions (mailsrvr.h) so a value logged by either program means the same;
// AllowRxByNumber is a bbsmail bit of its own above them, because Synchronet
// gave its old bit 7 to NO_READ_POP3.
type Options uint64

// Option bits, named as in sbbs.ini.
const (
	DebugRxHeader     Options = 1 << 0  // DEBUG_RX_HEADER
	DebugRxBody       Options = 1 << 1  // DEBUG_RX_BODY: keep received .msg files
	AllowPOP3         Options = 1 << 2  // ALLOW_POP3
	DebugTx           Options = 1 << 3  // DEBUG_TX
	DebugRxRsp        Options = 1 << 4  // DEBUG_RX_RSP
	RelayTx           Options = 1 << 5  // RELAY_TX: send through RelayServer
	DebugPOP3         Options = 1 << 6  // DEBUG_POP3
	NoReadPOP3        Options = 1 << 7  // NO_READ_POP3: RETR does not mark read
	NoNotify          Options = 1 << 8  // NO_NOTIFY
	AllowSysopAliases Options = 1 << 9  // ALLOW_SYSOP_ALIASES
	UseSubmissionPort Options = 1 << 10 // USE_SUBMISSION_PORT
	NoHostLookup      Options = 1 << 11 // NO_HOST_LOOKUP
	UseTCPDNS         Options = 1 << 12 // USE_TCP_DNS
	NoSendMail        Options = 1 << 13 // NO_SENDMAIL
	AllowRelay        Options = 1 << 14 // ALLOW_RELAY
	DNSBLRefuse       Options = 1 << 15 // DNSBL_REFUSE
	DNSBLIgnore       Options = 1 << 16 // DNSBL_IGNORE
	DNSBLBadUser      Options = 1 << 17 // DNSBL_BADUSER
	DNSBLChkRecvHdrs  Options = 1 << 18 // DNSBL_CHKRECVHDRS
	DNSBLThrottle     Options = 1 << 19 // DNSBL_THROTTLE
	DNSBLSpamHash     Options = 1 << 20 // DNSBL_SPAMHASH
	SMTPAuthViaIP     Options = 1 << 21 // SMTP_AUTH_VIA_IP
	SendInTransit     Options = 1 << 22 // SEND_INTRANSIT
	RelayAuthPlain    Options = 1 << 23 // RELAY_AUTH_PLAIN
	RelayAuthLogin    Options = 1 << 24 // RELAY_AUTH_LOGIN
	RelayAuthCRAMMD5  Options = 1 << 25 // RELAY_AUTH_CRAM_MD5
	NoAutoExempt      Options = 1 << 26 // NO_AUTO_EXEMPT
	NoRecycle         Options = 1 << 27 // NO_RECYCLE
	KillReadSpam      Options = 1 << 28 // KILL_READ_SPAM
	TLSSubmission     Options = 1 << 29 // TLS_SUBMISSION
	TLSPOP3           Options = 1 << 30 // TLS_POP3
	Mute              Options = 1 << 31 // MUTE: accepted for old files, ignored
	AllowRxByNumber   Options = 1 << 32 // ALLOW_RX_BY_NUMBER: bbsmail's own bit
)

// DefaultOptions applies when sbbs.ini has no Options key.
const DefaultOptions = AllowPOP3

// optionNames lists every flag name in bit order.
var optionNames = [...]string{
	"DEBUG_RX_HEADER", "DEBUG_RX_BODY", "ALLOW_POP3", "DEBUG_TX", "DEBUG_RX_RSP",
	"RELAY_TX", "DEBUG_POP3", "NO_READ_POP3", "NO_NOTIFY", "ALLOW_SYSOP_ALIASES",
	"USE_SUBMISSION_PORT", "NO_HOST_LOOKUP", "USE_TCP_DNS", "NO_SENDMAIL", "ALLOW_RELAY",
	"DNSBL_REFUSE", "DNSBL_IGNORE", "DNSBL_BADUSER", "DNSBL_CHKRECVHDRS", "DNSBL_THROTTLE",
	"DNSBL_SPAMHASH", "SMTP_AUTH_VIA_IP", "SEND_INTRANSIT", "RELAY_AUTH_PLAIN",
	"RELAY_AUTH_LOGIN", "RELAY_AUTH_CRAM_MD5", "NO_AUTO_EXEMPT", "NO_RECYCLE",
	"KILL_READ_SPAM", "TLS_SUBMISSION", "TLS_POP3", "MUTE", "ALLOW_RX_BY_NUMBER",
}

// Has reports whether every bit of o is set.
func (opts Options) Has(o Options) bool { return opts&o == o }

// String lists the set flags as sbbs.ini spells them, "A | B", in bit order.
func (opts Options) String() string {
	var names []string
	for v := uint64(opts); v != 0; v &= v - 1 {
		i := bits.TrailingZeros64(v)
		if i < len(optionNames) {
			names = append(names, optionNames[i])
		} else {
			names = append(names, fmt.Sprintf("0x%x", uint64(1)<<i))
		}
	}
	return strings.Join(names, " | ")
}

// retiredOptions are flag names that Synchronet releases wrote but bbsmail
// has no use for: they load with a notice, never an error.
var retiredOptions = map[string]string{
	"LOCAL_TIMEZONE": "old releases' local time zone flag",
	"DNSBL_DEBUG":    "Synchronet's DNSBL debug logging",
}

// ParseOptions parses a '|'-separated flag list strictly: every name must be
// one bbsmail knows. It is for text bbsmail writes itself (a new sbbs.ini).
func ParseOptions(s string) (Options, error) {
	opts, ignored, err := ParseOptionsLax(s)
	if err == nil && len(ignored) > 0 {
		err = fmt.Errorf("unknown option %q", ignored[0])
	}
	return opts, err
}

// ParseOptionsLax parses a '|'-separated flag list as a sysop's sbbs.ini
// holds it; names are case-insensitive and may be surrounded by spaces. A
// number is the raw bit value, as Synchronet reads it. A name bbsmail does
// not know is returned in ignored (Synchronet ignores such names too, and
// older files carry retired ones), except a near miss of a known name or two
// known names without their '|' ("ALLOW_POP3 TLS_POP3"): those are errors
// naming the flag meant, so a typo cannot silently turn a protection off.
func ParseOptionsLax(s string) (opts Options, ignored []string, err error) {
	for part := range strings.SplitSeq(s, "|") {
		raw := strings.TrimSpace(part)
		name := strings.ToUpper(raw)
		if name == "" {
			continue
		}
		if n, err := strconv.ParseUint(name, 0, 64); err == nil {
			opts |= Options(n)
			continue
		}
		if i := optionIndex(name); i >= 0 {
			opts |= 1 << i
			continue
		}
		if _, retired := retiredOptions[name]; retired {
			ignored = append(ignored, raw)
			continue
		}
		if near := nearOption(name); near != "" {
			return 0, nil, fmt.Errorf("unknown option %q (did you mean %s?)", raw, near)
		}
		ignored = append(ignored, raw)
	}
	return opts, ignored, nil
}

func optionIndex(name string) int {
	for i, n := range optionNames {
		if n == name {
			return i
		}
	}
	return -1
}

// nearOption names the flag an unknown name was probably meant to be: known
// names run together without '|', or a known name within two edits.
func nearOption(name string) string {
	if f := strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }); len(f) > 1 {
		for _, w := range f {
			if optionIndex(w) < 0 {
				return ""
			}
		}
		return strings.Join(f, " | ")
	}
	for _, n := range optionNames {
		if editDistance(name, n) <= 2 {
			return n
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of two ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

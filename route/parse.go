package route

import (
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// Parsed is a RCPT TO argument taken apart the way Synchronet reads it.
type Parsed struct {
	// ForwardPath is the raw argument, trimmed, ESMTP parameters included:
	// what the recipient's Received header and refusals quote.
	ForwardPath string
	// Addr is the recipient after the prefixes: what spam bait, email.can
	// and alias.cfg are matched against. Empty means no recipient.
	Addr string
	// Forward and Local record the forward: and local: prefixes.
	Forward, Local bool
}

// Parse reads a RCPT TO argument: every '"' is removed, the text after the
// last '<' is cut at the first '>', a source route ("@a,@b:") is dropped
// (RFC 5321 §4.1.1.3 lets a server ignore it), then a forward: prefix and
// a local: prefix are stripped (in that order, ignoring case). Without
// angle brackets the whole argument is the address, as in Synchronet, so
// unbracketed ESMTP parameters end up in it.
func Parse(arg string) Parsed {
	p := Parsed{ForwardPath: strings.TrimSpace(arg)}
	s := strings.ReplaceAll(p.ForwardPath, `"`, "")
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, ">")
	s = envelope.DropSourceRoute(strings.TrimSpace(s))
	if rest, ok := cutPrefixFold(s, "forward:"); ok {
		p.Forward, s = true, rest
	}
	if rest, ok := cutPrefixFold(s, "local:"); ok {
		p.Local, s = true, rest
	}
	p.Addr = s
	return p
}

// strayAt reports whether the mailbox in a RCPT TO argument has more than
// one '@' outside quotes. "victim@evil.example@bbs.example" is not an
// address: splitting it at the last '@' would hand the client's choice of
// "victim@evil.example" to alias.cfg as a local part. A quoted local part
// ("a@b"@bbs.example) is RFC 5321 syntax and passes; it can still never
// leave the system without the relay decision (see network).
func strayAt(fp string) bool {
	s := strings.TrimSpace(fp)
	if i := envelope.LastUnquoted(s, '<'); i > 0 {
		s = s[i:] // after a display name, which Synchronet tolerates
	}
	path, _, err := envelope.ParsePath(s)
	if err != nil {
		path = envelope.DropSourceRoute(strings.TrimPrefix(s, "<"))
	}
	return envelope.CountUnquoted(path, '@') > 1
}

// lookupAlias applies the first matching alias.cfg line to name. A line's
// name matches exactly, ignoring ASCII case, or with a leading '*' as "ends
// with"; then a value with a leading '*' keeps the part of name before the
// matched suffix ("*@old.dom *@new.dom"), any other value replaces name.
// Only a leading '*' is special, whatever the stock alias.cfg comment says.
// exact reports a value the sysop wrote out in full: only such a value may
// send mail off-system for a stranger, because a '*' value carries text
// the client chose ("victim@evil.example@old.dom" through "*@old.dom *").
func lookupAlias(aliases []Alias, name string) (value string, hit, exact bool) {
	for _, a := range aliases {
		if a.Name == "" || a.Value == "" {
			continue
		}
		suffix, wild := strings.CutPrefix(a.Name, "*")
		if !wild {
			if equalFold(a.Name, name) {
				return a.Value, true, true
			}
			continue
		}
		if len(name) < len(suffix) || !equalFold(name[len(name)-len(suffix):], suffix) {
			continue
		}
		if rest, ok := strings.CutPrefix(a.Value, "*"); ok {
			return name[:len(name)-len(suffix)] + rest, true, false
		}
		return a.Value, true, true
	}
	return name, false, false
}

// splitRoute splits a QWK-routed name, route!user, at the last '!'.
func splitRoute(name string) (route, user string, ok bool) {
	i := strings.LastIndexByte(name, '!')
	if i < 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// tidy skips leading non-alphanumeric characters and cuts at a '"', as
// Synchronet does before the name lookups ("<'joe" is joe).
func tidy(name string) string {
	i := 0
	for i < len(name) && !isAlnum(name[i]) {
		i++
	}
	name = name[i:]
	name, _, _ = strings.Cut(name, `"`)
	return name
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// leadingNumber reads the decimal digits at the start of s, as C's atoi
// does for alias.cfg values such as "1" or "1 ; the sysop". It reports
// false when there are none or the number does not fit a user number.
func leadingNumber(s string) (uint32, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(s[:i], 10, 32)
	return uint32(n), err == nil
}

// equalFold compares ignoring ASCII case only, like the C library's
// stricmp that Synchronet's files are written for.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

const fidoTLD = ".fidonet"

// isFidoDomain reports whether domain (any :port aside) is in the virtual
// .fidonet top-level domain, which is never looked up in the DNS.
func isFidoDomain(domain string) bool {
	host, _, _ := splitPort(domain)
	return len(host) >= len(fidoTLD) && equalFold(host[len(host)-len(fidoTLD):], fidoTLD)
}

// parseFido turns "[pP.]fF.nN.zZ.fidonet" into "Z:N/F[.P]". The zone must
// not be 0; a point of 0 is the node itself.
func parseFido(domain string) (string, bool) {
	rest, ok := cutSuffixFold(domain, fidoTLD)
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, ".")
	letters := "fnz"
	if len(parts) == 4 {
		letters = "pfnz"
	} else if len(parts) != 3 {
		return "", false
	}
	var v [4]uint64 // point, node, net, zone
	off := 4 - len(parts)
	for i, part := range parts {
		if len(part) < 2 || lower(part[0]) != letters[i] || !isDigits(part[1:]) {
			return "", false
		}
		n, err := strconv.ParseUint(part[1:], 10, 16)
		if err != nil {
			return "", false
		}
		v[off+i] = n
	}
	point, node, netw, zone := v[0], v[1], v[2], v[3]
	if zone == 0 {
		return "", false
	}
	s := strconv.FormatUint(zone, 10) + ":" + strconv.FormatUint(netw, 10) + "/" + strconv.FormatUint(node, 10)
	if point != 0 {
		s += "." + strconv.FormatUint(point, 10)
	}
	return s, true
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && equalFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// fidoName turns the local part of a FidoNet address into the addressee's
// name: "rob.swindell" and "rob_swindell" are "rob swindell".
func fidoName(local string) string {
	return strings.NewReplacer(".", " ", "_", " ").Replace(local)
}

// splitPort splits "host:port"; hasPort reports whether there was a ':'.
// A port that is not a number becomes -1, which matches no listener.
func splitPort(domain string) (host string, port int, hasPort bool) {
	i := strings.LastIndexByte(domain, ':')
	if i < 0 {
		return domain, 0, false
	}
	n, err := strconv.ParseUint(domain[i+1:], 10, 16)
	if err != nil {
		return domain[:i], -1, true
	}
	return domain[:i], int(n), true
}

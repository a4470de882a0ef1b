package envelope

import (
	"errors"
	"strings"
)

// ErrSyntax is returned for a path that cannot be parsed.
var ErrSyntax = errors.New("syntax error in path")

// ParsePath splits the argument of MAIL FROM: or RCPT TO: into the path
// (without angle brackets) and the ESMTP parameters that follow it.
// "<>" gives an empty path. A source route ("@a,@b:user@c") is dropped.
// A path holding a control character is a syntax error.
// Leading white space is skipped; a missing bracket pair is tolerated when
// the path has no spaces, as many clients send "MAIL FROM:user@host".
func ParsePath(arg string) (path, params string, err error) {
	arg = strings.TrimLeft(arg, " \t")
	if arg == "" {
		return "", "", ErrSyntax
	}
	if arg[0] == '<' {
		end := closingBracket(arg)
		if end < 0 {
			return "", "", ErrSyntax
		}
		path = arg[1:end]
		params = strings.TrimSpace(arg[end+1:])
	} else {
		path, params, _ = strings.Cut(arg, " ")
		params = strings.TrimSpace(params)
	}
	path = DropSourceRoute(path)
	if strings.IndexFunc(path, isControl) >= 0 {
		return "", "", ErrSyntax
	}
	return path, params, nil
}

// isControl reports an ASCII control character (tab included) or DEL:
// none belongs in a path, and quietly dropping them would store an
// address the client never wrote.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// StripQuotes removes every '"' from a path, giving the form that
// Synchronet matches against its lists: `"bob"@example.org` is
// bob@example.org.
func StripQuotes(path string) string {
	return strings.ReplaceAll(path, `"`, "")
}

// closingBracket finds the '>' that closes the path at s[0]=='<', skipping
// quoted local parts.
func closingBracket(s string) int {
	return scanUnquoted(s, 1, func(c byte) bool { return c == '>' })
}

// scanUnquoted returns the index of the first byte of s, from i on, that
// is outside a quoted string and satisfies stop, or -1. A backslash inside
// quotes escapes the next byte.
func scanUnquoted(s string, i int, stop func(c byte) bool) int {
	quoted := false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && stop(c):
			return i
		}
	}
	return -1
}

// LastUnquoted returns the index of the last c in s outside quoted
// strings, or -1.
func LastUnquoted(s string, c byte) int {
	last := -1
	for i := 0; ; i++ {
		if i = scanUnquoted(s, i, func(b byte) bool { return b == c }); i < 0 {
			return last
		}
		last = i
	}
}

// CountUnquoted counts the bytes c in s outside quoted strings: a mailbox
// has one '@' outside quotes, `"a@b"@example.org` included.
func CountUnquoted(s string, c byte) int {
	n := 0
	for i := 0; ; i++ {
		if i = scanUnquoted(s, i, func(b byte) bool { return b == c }); i < 0 {
			return n
		}
		n++
	}
}

// DropSourceRoute removes an RFC 5321 source route, "@a,@b:", from the
// start of a path (RFC 5321 §4.1.1.3 lets a server ignore it). A domain in
// brackets may hold ':' (an IPv6 literal).
func DropSourceRoute(path string) string {
	if !strings.HasPrefix(path, "@") {
		return path
	}
	bracket := false
	for i := 1; i < len(path); i++ {
		switch c := path[i]; {
		case c == '[':
			bracket = true
		case c == ']':
			bracket = false
		case c == ':' && !bracket:
			return path[i+1:]
		}
	}
	return path
}

// SplitAddress splits user@domain at the last '@'. An address without '@'
// gives an empty domain.
func SplitAddress(addr string) (local, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}

// ParseParams parses ESMTP parameters ("SIZE=1000 BODY=8BITMIME") into
// upper-cased keys. A keyword without a value maps to "".
func ParseParams(params string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range strings.Fields(params) {
		k, v, _ := strings.Cut(f, "=")
		if k == "" {
			return nil, ErrSyntax
		}
		out[strings.ToUpper(k)] = v
	}
	return out, nil
}

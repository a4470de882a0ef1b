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
	if i := strings.LastIndexByte(path, ':'); i >= 0 && strings.HasPrefix(path, "@") {
		path = path[i+1:]
	}
	if strings.ContainsAny(path, "\r\n\x00") {
		return "", "", ErrSyntax
	}
	return path, params, nil
}

// closingBracket finds the '>' that closes the path at s[0]=='<', skipping
// quoted local parts.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case '>':
			if !quoted {
				return i
			}
		}
	}
	return -1
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

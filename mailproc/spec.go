package mailproc

import (
	"strconv"
	"strings"
)

// specValues are the values of the command-line specifiers for one run.
type specValues struct {
	msg, newMsg, list, errFile, logFile string // %m/%f %n %l %e %d
	host, ip                            string // %h %i
	sender, senderAddr                  string // %s %a
	user                                uint32 // %u
	reversePath, rcpt                   string // %r (in angle brackets) %t
	exec, temp, data, ctrl, text        string // %! (%@) %g %j %k %z
	sysop, qwkID, version, platform     string // %o %q %v %?
	windows                             bool   // %@ expands only on Windows
}

// value returns the expansion of the specifier letter c (any case).
// Unknown specifiers expand to nothing, as in Synchronet.
func (v *specValues) value(c byte) string {
	switch c | 0x20 {
	case 'm', 'f':
		return v.msg
	case 'n':
		return v.newMsg
	case 'l':
		return v.list
	case 'e':
		return v.errFile
	case 'd':
		return v.logFile
	case 'h':
		return v.host
	case 'i':
		return v.ip
	case 's':
		return v.sender
	case 'a':
		return v.senderAddr
	case 'u':
		return strconv.FormatUint(uint64(v.user), 10)
	case 'r':
		return v.reversePath
	case 't':
		return v.rcpt
	case 'g':
		return v.temp
	case 'j':
		return v.data
	case 'k':
		return v.ctrl
	case 'z':
		return v.text
	case 'o':
		return v.sysop
	case 'q':
		return v.qwkID
	case 'v':
		return v.version
	}
	switch c {
	case '!':
		return v.exec
	case '@':
		if v.windows {
			return v.exec
		}
	case '?':
		return strings.ToLower(v.platform)
	case '%':
		return "%"
	}
	return ""
}

// expand replaces the %-specifiers of cmd. A '%' at the very end expands
// to nothing.
//
// With shell set (native processors, whose command line goes to /bin/sh),
// every value is quoted for the place it lands in: inside single quotes,
// inside double quotes, or bare. Sender names, addresses and the client's
// host name come from the network, and Synchronet pastes them into the
// command line as they are, so "MAIL FROM:<`reboot`@x>" would run a
// command. Quoting keeps the sysop's own quotes working ("%s" still gives
// one word) while a value can never end a quote or start a command.
// Control characters, which a shell word cannot carry safely, are removed
// from the values.
func expand(cmd string, v *specValues, shell bool) string {
	var b strings.Builder
	var q quoteState
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		if c != '%' {
			b.WriteByte(c)
			if shell {
				q.feed(c)
			}
			continue
		}
		i++
		switch {
		case i >= len(cmd):
		case cmd[i] == '%':
			b.WriteByte('%')
			if shell {
				q.feed('%')
			}
		case shell:
			b.WriteString(q.quote(clean(v.value(cmd[i]))))
		default:
			b.WriteString(v.value(cmd[i]))
		}
	}
	return b.String()
}

// clean removes control characters (NUL, CR, LF, ...) from a value.
func clean(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// quoteState follows a POSIX shell command line far enough to know whether
// the next character is inside single quotes, double quotes or neither.
type quoteState struct {
	single, double, escaped bool
}

func (q *quoteState) feed(c byte) {
	switch {
	case q.escaped:
		q.escaped = false
	case q.single:
		q.single = c != '\''
	case c == '\\':
		q.escaped = true
	case q.double:
		q.double = c != '"'
	case c == '\'':
		q.single = true
	case c == '"':
		q.double = true
	}
}

// quote renders s so that the shell reads it literally where it lands.
func (q *quoteState) quote(s string) string {
	if q.escaped {
		// The sysop wrote a backslash right before the specifier: it
		// escapes the value's first byte, which therefore goes out as it
		// is; the rest is quoted as usual.
		if s == "" {
			return "" // the backslash still applies to what follows
		}
		q.escaped = false
		if q.double {
			return s[:1] + doubleQuoted(s[1:])
		}
		return s[:1] + bareQuote(s[1:])
	}
	switch {
	case q.single:
		// Close the quote, add an escaped quote, reopen: 'it'\''s'.
		return strings.ReplaceAll(s, "'", `'\''`)
	case q.double:
		return doubleQuoted(s)
	case s == "":
		return "''"
	}
	return bareQuote(s)
}

// doubleQuoted escapes the characters that keep their meaning inside
// double quotes.
func doubleQuoted(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(s)
}

// bareQuote quotes s for a place outside any quotes. Values made only of
// characters the shell never treats specially are left alone, so logs stay
// readable for the usual file names.
func bareQuote(s string) string {
	if s == "" {
		return ""
	}
	safe := true
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("/._-+=:,@%", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

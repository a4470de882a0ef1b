package mailproc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// specValues are the values of the command-line specifiers for one run.
type specValues struct {
	msg, newMsg, list, errFile, logFile string // %m/%f %n %l %e %d
	host, ip                            string // %h %i
	sender, senderAddr                  string // %s %a
	user                                uint32 // %u
	reversePath, rcpt                   string // %r (without angle brackets) %t
	exec, temp, data, ctrl, text        string // %! (%@) %g %j %k %z
	sysop, qwkID, version, platform     string // %o %q %v %?
	windows                             bool   // %@ expands only on Windows
}

// fromNetwork reports whether the specifier letter c (any case) stands
// for a value a client chose: the host name (its own reverse DNS), the
// address, the sender's name and address, the reverse path and the
// recipient.
func fromNetwork(c byte) bool {
	switch c | 0x20 {
	case 'h', 'i', 's', 'a', 'r', 't':
		return true
	}
	return false
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
		return angle(v.reversePath)
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
// With shell set (native processors, whose command line goes to /bin/sh)
// values are made safe for the shell. Sender names, addresses and the
// client's host name come from the network, and Synchronet pastes them
// into the command line as they are, so "MAIL FROM:<`reboot`@x>" would run
// a command. Quoting them is not enough: a sysop's command that hands its
// arguments to another shell (sh -c '... %r', eval, su -c) has the quoted
// text read again, and no quoting survives an unknown number of shells.
// So a value from the network goes into the command line only as a word
// of inert characters (see inert), which every shell at every level reads
// as the same plain word; the exact values are in the environment
// (environ). The reverse path loses its angle brackets for the same
// reason. The sysop's own values (paths, names) are quoted for the place
// they land in: inside single quotes, inside double quotes, or bare, so
// the sysop's quotes keep working ("%o" is one word).
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
		case shell && cmd[i]|0x20 == 'r':
			b.WriteString(q.quote(inert(v.reversePath)))
		case shell && fromNetwork(cmd[i]):
			b.WriteString(q.quote(inert(v.value(cmd[i]))))
		case shell:
			b.WriteString(q.quote(clean(v.value(cmd[i]))))
		default:
			b.WriteString(v.value(cmd[i]))
		}
	}
	return b.String()
}

// expandWords splits a JavaScript processor's command line into words and
// then expands each one (no shell, no quoting), so that a value is always
// inside the word its specifier was in: a sender name with spaces cannot
// become arguments of its own and shift the sysop's. (Synchronet expands
// first and splits afterwards.)
func expandWords(cmd string, v *specValues) []string {
	words := strings.Fields(cmd)
	for i, w := range words {
		words[i] = expand(w, v, false)
	}
	return words
}

// hasNetworkSpecifier reports whether s holds a specifier whose value
// comes from the network (fromNetwork).
func hasNetworkSpecifier(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if s[i] != '%' && fromNetwork(s[i]) {
			return true
		}
	}
	return false
}

// inert replaces every character of s that any shell might treat
// specially, at any level of nesting, with '_': only ASCII letters, digits
// and "@._-+=:,/%" are kept (the set Postfix's command_expansion_filter
// allows, less '!'). A leading '-' also becomes '_', so that a value never
// reads as an option. Such a word has no quote, no space, no $, backquote
// or backslash, no operator, redirection, glob, tilde or brace: it cannot
// end a word or a quote, start a command or expand into anything else,
// however many times it is read.
func inert(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r < utf8.RuneSelf && inertByte(byte(r)) && (i > 0 || r != '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func inertByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("@._-+=:,/%", c) >= 0
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
		safe = inertByte(s[i])
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package envelope

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// LogText returns s with everything a terminal would act on written as an
// escape: C0 controls other than tab (ESC, CR, LF, BEL...) and DEL as
// \xNN, C1 controls (U+0080-U+009F, among them the one-character CSI
// U+009B) as \uNNNN, and a raw byte 0x80-0x9F that is not part of UTF-8
// as \xNN. Logs show what clients send (names, subjects, command lines):
// written as they came, an escape sequence would rewrite the sysop's
// terminal, and a line end would start a line of the client's making for
// fail2ban to act on. Other text, 8-bit text in other character sets
// included, is kept as it is.
func LogText(s string) string {
	if logClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1 && s[i] >= 0x80 && s[i] <= 0x9f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isControl(r) && r != '\t':
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// logClean reports whether LogText has nothing to change: the common
// case, checked without allocating.
func logClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			return c >= 0x80 && cleanFrom(s[i:])
		}
	}
	return true
}

// cleanFrom is logClean's slow path, from the first non-ASCII byte on.
func cleanFrom(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r < 0x20 && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r == utf8.RuneError && n == 1 && s[i] <= 0x9f) {
			return false
		}
		i += n
	}
	return true
}

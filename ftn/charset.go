package ftn

import (
	"strings"
	"unicode/utf8"
)

// Charset is a character set a message travels in, named as in the CHRS
// kludge (FTS-5003).
type Charset int

const (
	CP437 Charset = iota
	Latin1
	UTF8
	ASCII
)

// ParseCharset reads a charset name as sbbs.ini or the CHRS kludge spells
// it ("CP437 2", "LATIN-1 2", "UTF-8 4", "ASCII 1", "IBMPC 2").
func ParseCharset(s string) (Charset, bool) {
	f := strings.Fields(strings.ToUpper(s))
	if len(f) == 0 {
		return CP437, false
	}
	switch f[0] {
	case "CP437", "IBMPC", "IBM437", "PC-8", "CP850", "CP865", "CP866":
		return CP437, true
	case "LATIN-1", "LATIN1", "ISO-8859-1", "ISO8859-1", "CP1252":
		return Latin1, true
	case "UTF-8", "UTF8":
		return UTF8, true
	case "ASCII", "US-ASCII":
		return ASCII, true
	}
	return CP437, false
}

// Kludge is the CHRS kludge value for c.
func (c Charset) Kludge() string {
	switch c {
	case Latin1:
		return "LATIN-1 2"
	case UTF8:
		return "UTF-8 4"
	case ASCII:
		return "ASCII 1"
	}
	return "CP437 2"
}

// MIME is the charset parameter for an Internet message in c.
func (c Charset) MIME() string {
	switch c {
	case Latin1:
		return "iso-8859-1"
	case UTF8:
		return "utf-8"
	case ASCII:
		return "us-ascii"
	}
	return "ibm437"
}

// cp437 maps the bytes 0x80..0xFF of code page 437 to Unicode.
var cp437 = [128]rune([]rune(
	"ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»" +
		"░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
		"αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"))

var fromUnicode437 = func() map[rune]byte {
	m := make(map[rune]byte, 128)
	for i, r := range cp437 {
		m[r] = byte(0x80 + i)
	}
	return m
}()

// Encode converts UTF-8 text to c. A character c cannot show becomes '?';
// invalid UTF-8 bytes do too.
func (c Charset) Encode(s string) []byte {
	if c == UTF8 {
		return []byte(strings.ToValidUTF8(s, "?"))
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80 && r != utf8.RuneError:
			out = append(out, byte(r))
		case c == Latin1 && r < 0x100:
			out = append(out, byte(r))
		case c == CP437 && fromUnicode437[r] != 0:
			out = append(out, fromUnicode437[r])
		default:
			out = append(out, '?')
		}
	}
	return out
}

// Decode converts text in c to UTF-8. Invalid UTF-8 in a UTF-8 message
// becomes U+FFFD, so the result is always valid.
func (c Charset) Decode(b []byte) string {
	switch c {
	case UTF8:
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case ASCII, Latin1:
		var sb strings.Builder
		for _, x := range b {
			if c == ASCII && x >= 0x80 {
				sb.WriteRune(utf8.RuneError)
				continue
			}
			sb.WriteRune(rune(x))
		}
		return sb.String()
	}
	var sb strings.Builder
	for _, x := range b {
		if x < 0x80 {
			sb.WriteByte(x)
		} else {
			sb.WriteRune(cp437[x-0x80])
		}
	}
	return sb.String()
}

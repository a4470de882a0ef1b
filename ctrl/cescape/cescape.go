package cescape

import (
	"strconv"
	"strings"
)

// Unescape decodes C escape sequences (\n \t \r \\ \" \' \a \b \f \v \?,
// \xHH and octal \NNN). An unknown or truncated escape is kept as written,
// so a Windows path such as C:\sbbs survives.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n, adv := escape(s[i+1:])
		if adv == 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(n)
		i += adv
	}
	return b.String()
}

// escape decodes the sequence after a backslash; adv is the number of
// bytes consumed, 0 when the sequence is not an escape.
func escape(s string) (byte, int) {
	simple := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', '\'': '\'',
		'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', '?': '?'}
	if v, ok := simple[s[0]]; ok {
		return v, 1
	}
	if s[0] == 'x' {
		j := 1
		for j < len(s) && j < 3 && isHex(s[j]) {
			j++
		}
		if j == 1 {
			return 0, 0
		}
		v, _ := strconv.ParseUint(s[1:j], 16, 8)
		return byte(v), j
	}
	j := 0
	for j < len(s) && j < 3 && s[j] >= '0' && s[j] <= '7' {
		j++
	}
	if j == 0 {
		return 0, 0
	}
	v, err := strconv.ParseUint(s[:j], 8, 16)
	if err != nil || v > 255 {
		return 0, 0
	}
	return byte(v), j
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

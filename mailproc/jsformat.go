package mailproc

import (
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// format(fmt, args...) is Synchronet's format(): C's printf conversions
// (flags "-+ #0", width and precision, "*" from the arguments, the length
// modifiers h l ll L q j z t ignored) over JavaScript values. A conversion
// without an argument left prints as written, as Synchronet's does.
func (h *jsHost) format(call goja.FunctionCall) goja.Value {
	if len(call.Arguments) == 0 {
		return h.vm.ToValue("")
	}
	return h.vm.ToValue(cformat(call.Arguments[0].String(), call.Arguments[1:]))
}

// printf(fmt, args...) logs the formatted text, as print() does.
func (h *jsHost) printf(call goja.FunctionCall) goja.Value {
	v := h.format(call)
	h.logFunc(goja.FunctionCall{Arguments: []goja.Value{v}})
	return v
}

// cspec is one parsed conversion.
type cspec struct {
	flags      string
	width      int
	prec       int // -1: none
	verb       byte
	start, end int // the conversion's text in the format
}

func cformat(f string, args []goja.Value) string {
	var b strings.Builder
	next := func() (goja.Value, bool) {
		if len(args) == 0 {
			return nil, false
		}
		a := args[0]
		args = args[1:]
		return a, true
	}
	for i := 0; i < len(f); {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		sp, ok := parseSpec(f, i, next)
		if !ok {
			b.WriteString(f[i:])
			break
		}
		i = sp.end
		if sp.verb == '%' {
			b.WriteByte('%')
			continue
		}
		a, ok := next()
		if !ok {
			b.WriteString(f[sp.start:sp.end])
			continue
		}
		b.WriteString(pad(sp, convert(sp, a)))
	}
	return b.String()
}

// parseSpec reads the conversion starting at f[i] (the '%').
func parseSpec(f string, i int, next func() (goja.Value, bool)) (cspec, bool) {
	sp := cspec{start: i, prec: -1}
	i++
	for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
		sp.flags += string(f[i])
		i++
	}
	num := func() int {
		if i < len(f) && f[i] == '*' {
			i++
			if a, ok := next(); ok {
				return int(a.ToInteger())
			}
			return 0
		}
		j := i
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
		}
		n, _ := strconv.Atoi(f[j:i])
		return n
	}
	sp.width = num()
	if sp.width < 0 {
		sp.flags += "-"
		sp.width = -sp.width
	}
	// A width or precision may come from message text ("%*d"): bound it,
	// or one call asks for an allocation no memory limit can stop.
	sp.width = min(sp.width, maxFormatWidth)
	if i < len(f) && f[i] == '.' {
		i++
		sp.prec = min(max(num(), 0), maxFormatWidth)
	}
	for i < len(f) && strings.IndexByte("hlLqjzt", f[i]) >= 0 {
		i++
	}
	if i >= len(f) {
		return sp, false
	}
	sp.verb = f[i]
	sp.end = i + 1
	return sp, true
}

// convert formats one argument without padding to the width.
func convert(sp cspec, a goja.Value) string {
	has := func(c byte) bool { return strings.IndexByte(sp.flags, c) >= 0 }
	sign := func(s string, neg bool) string {
		switch {
		case neg:
			return "-" + s
		case has('+'):
			return "+" + s
		case has(' '):
			return " " + s
		}
		return s
	}
	switch sp.verb {
	case 'd', 'i':
		n := a.ToInteger()
		s := strconv.FormatUint(absU(n), 10)
		return sign(precDigits(s, sp.prec), n < 0)
	case 'u':
		return precDigits(strconv.FormatUint(uint64(uint32(a.ToInteger())), 10), sp.prec)
	case 'x', 'X', 'o':
		base := 16
		if sp.verb == 'o' {
			base = 8
		}
		s := precDigits(strconv.FormatUint(uint64(uint32(a.ToInteger())), base), sp.prec)
		if sp.verb == 'X' {
			s = strings.ToUpper(s)
		}
		if has('#') && s != "0" {
			s = map[byte]string{'x': "0x", 'X': "0X", 'o': "0"}[sp.verb] + s
		}
		return s
	case 'c':
		if n, ok := a.Export().(int64); ok {
			return string(rune(n))
		}
		if s := a.String(); s != "" {
			return s[:1]
		}
		return ""
	case 'f', 'F', 'e', 'E', 'g', 'G':
		fl := a.ToFloat()
		p := sp.prec
		if p < 0 {
			p = 6
		}
		s := strconv.FormatFloat(math.Abs(fl), sp.verb|0x20, p, 64)
		if sp.verb <= 'Z' {
			s = strings.ToUpper(s)
		}
		return sign(s, math.Signbit(fl) && !math.IsNaN(fl))
	case 's':
		s := a.String()
		if sp.prec >= 0 && sp.prec < len(s) {
			s = s[:sp.prec]
		}
		return s
	}
	return a.String()
}

func absU(n int64) uint64 {
	if n < 0 {
		return uint64(-n)
	}
	return uint64(n)
}

// precDigits pads an integer's digits with zeros to the precision.
func precDigits(s string, prec int) string {
	if prec > len(s) {
		return strings.Repeat("0", prec-len(s)) + s
	}
	return s
}

// pad applies the width: left-justified with '-', zero-filled after the
// sign with '0' (numbers only), else right-justified with spaces.
func pad(sp cspec, s string) string {
	n := len([]rune(s))
	if n >= sp.width {
		return s
	}
	fill := sp.width - n
	switch {
	case strings.Contains(sp.flags, "-"):
		return s + strings.Repeat(" ", fill)
	case strings.Contains(sp.flags, "0") && sp.verb != 's' && sp.verb != 'c':
		i := 0
		if s != "" && strings.IndexByte("+- ", s[0]) >= 0 {
			i = 1
		}
		if strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X") {
			i += 2
		}
		return s[:i] + strings.Repeat("0", fill) + s[i:]
	}
	return strings.Repeat(" ", fill) + s
}

// maxFormatWidth bounds the width and precision of a format() field.
const maxFormatWidth = 1 << 16

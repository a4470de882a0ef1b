package ars

import (
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// tri is a three-valued truth: a term the mail server cannot evaluate is
// unknown, and unknown spreads through NOT, AND and OR the way Kleene's logic
// says, so a requirement is met only if it holds whatever the unknown terms
// would be.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// node is one part of a parsed requirement.
type node interface {
	eval(env *env) tri
	render(b []byte) []byte
}

// binary joins two parts with AND or OR.
type binary struct {
	or   bool
	l, r node
}

// notGroup is NOT applied to a parenthesised expression.
type notGroup struct {
	n node
}

// term is one condition: a keyword with its value and modifiers.
type term struct {
	kw    kw
	not   bool
	equal bool   // exactly equal instead of at least, or the only flag set
	num   int    // number; minutes after midnight for TIME; weekday; flag or sex letter
	text  string // pattern for text keywords
}

// negate applies NOT to a parsed group. NOT (LEVEL 50) is the term NOT
// LEVEL 50, and NOT (NOT (...)) cancels out, so the canonical form never
// needs a double NOT.
func negate(n node) node {
	switch n := n.(type) {
	case *term:
		t := *n
		t.not = !t.not
		return &t
	case *notGroup:
		return n.n
	}
	return &notGroup{n: n}
}

func (b *binary) eval(env *env) tri {
	l := b.l.eval(env)
	if b.or {
		if l == yes {
			return yes
		}
		r := b.r.eval(env)
		if r == yes {
			return yes
		}
		if l == no && r == no {
			return no
		}
		return unknown
	}
	if l == no {
		return no
	}
	r := b.r.eval(env)
	if r == no {
		return no
	}
	if l == yes && r == yes {
		return yes
	}
	return unknown
}

func (g *notGroup) eval(env *env) tri { return g.n.eval(env).not() }

func (t *term) eval(env *env) tri {
	if !kwTable[t.kw].supported {
		return unknown
	}
	r := triOf(t.holds(env))
	if t.not {
		return r.not()
	}
	return r
}

// env is a Subject prepared for evaluation.
type env struct {
	s     *Subject
	now   time.Time
	flags [4]uint32
	ex    uint32
	rest  uint32
}

func newEnv(s *Subject) *env {
	e := &env{s: s, now: s.Now}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	for i, f := range s.Flags {
		e.flags[i] = letterSet(f)
	}
	e.ex = letterSet(s.Exempt)
	e.rest = letterSet(s.Restrict)
	return e
}

// letterSet turns flag letters into a bit set; anything but A-Z is ignored.
func letterSet(s string) uint32 {
	var set uint32
	for i := 0; i < len(s); i++ {
		if c := upper(s[i]); c >= 'A' && c <= 'Z' {
			set |= 1 << (c - 'A')
		}
	}
	return set
}

// holds evaluates a supported term without its NOT.
func (t *term) holds(env *env) bool {
	s := env.s
	switch t.kw {
	case kwLevel:
		return t.compare(int64(s.Level))
	case kwAge:
		return t.compare(int64(age(s.Birth, env.now)))
	case kwUser:
		return t.compare(int64(s.Number))
	case kwUserName:
		return matchUserName(s.Alias, t.text)
	case kwTime:
		return env.now.Hour()*60+env.now.Minute() >= t.num
	case kwDay:
		return t.compare(int64(env.now.Weekday()))
	case kwFlag1, kwFlag2, kwFlag3, kwFlag4:
		return t.hasFlag(env.flags[t.kw-kwFlag1])
	case kwExempt:
		return t.hasFlag(env.ex)
	case kwRest:
		return t.hasFlag(env.rest)
	case kwSex:
		return len(s.Sex) == 1 && int(upper(s.Sex[0])) == t.num
	case kwSysop:
		return s.Level >= SysopLevel
	case kwGuest:
		return env.rest&(1<<('G'-'A')) != 0
	case kwQNode:
		return env.rest&(1<<('Q'-'A')) != 0
	case kwActive:
		return !s.Deleted && !s.Inactive
	case kwInactive:
		return s.Inactive
	case kwDeleted:
		return s.Deleted
	case kwHost:
		return matchPattern(s.Host, t.text)
	case kwIP:
		return matchIP(s.IP, t.text)
	case kwProt:
		return matchPattern(s.Protocol, t.text)
	case kwSubCode:
		return s.SubCode != "" && matchPattern(s.SubCode, t.text)
	case kwUnix:
		return isUnix(runtime.GOOS)
	case kwLinux:
		return runtime.GOOS == "linux" || runtime.GOOS == "android"
	case kwWin32:
		return runtime.GOOS == "windows"
	}
	return false // OS2, and nothing else reaches here
}

// compare is "at least" for numeric keywords, or "exactly" after =.
func (t *term) compare(v int64) bool {
	if t.equal {
		return v == int64(t.num)
	}
	return v >= int64(t.num)
}

// hasFlag is "holds the letter", or after = "holds that letter and no other".
func (t *term) hasFlag(set uint32) bool {
	bit := uint32(1) << (t.num - 'A')
	if t.equal {
		return set == bit
	}
	return set&bit != 0
}

// age counts full years from birth to now; an unknown birth date is age 0,
// as in Synchronet, so AGE n fails for n > 0.
func age(birth, now time.Time) int {
	if birth.IsZero() {
		return 0
	}
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	years := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		years--
	}
	return max(years, 0)
}

func isUnix(goos string) bool {
	switch goos {
	case "windows", "plan9", "js", "wasip1":
		return false
	}
	return true
}

// matchPattern compares a session value with a pattern the way Synchronet's
// filter lists do, ignoring ASCII case: a trailing '~' finds the rest
// anywhere, a trailing '^' matches a prefix, the first '*' stands for any
// run of characters (a second '*' is literal), anything else must be equal.
func matchPattern(value, pattern string) bool {
	v, p := lowerASCII(value), lowerASCII(pattern)
	switch {
	case strings.HasSuffix(p, "~"):
		return strings.Contains(v, p[:len(p)-1])
	case strings.HasSuffix(p, "^"):
		return strings.HasPrefix(v, p[:len(p)-1])
	}
	if left, right, ok := strings.Cut(p, "*"); ok {
		return len(v) >= len(left)+len(right) && strings.HasPrefix(v, left) && strings.HasSuffix(v, right)
	}
	return v == p
}

// matchIP also understands an address or a CIDR network (RFC 4632, RFC 4291
// §2.3) in the pattern, compared as addresses rather than as text, so
// "IP 10.0.0.0/8" and "IP 2001:db8::1" work whatever form the client
// address is written in.
func matchIP(ip netip.Addr, pattern string) bool {
	ip = ip.Unmap()
	if pfx, err := netip.ParsePrefix(pattern); err == nil {
		return ip.IsValid() && pfx.Masked().Contains(ip)
	}
	if a, err := netip.ParseAddr(pattern); err == nil {
		return ip.IsValid() && a.Unmap().WithZone("") == ip.WithZone("")
	}
	text := ""
	if ip.IsValid() {
		text = ip.WithZone("").String()
	}
	return matchPattern(text, pattern)
}

// matchUserName compares a user name with USER's argument the way Synchronet
// matches user names: only letters and digits count, case is ignored, and
// the argument ends at an '@' so a mail address names its user.
func matchUserName(name, arg string) bool {
	if at := strings.IndexByte(arg, '@'); at >= 0 {
		arg = arg[:at]
	}
	n, a := alnumUpper(name), alnumUpper(arg)
	return n != "" && n == a
}

func alnumUpper(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := upper(s[i]); isLetter(c) || isDigit(c) {
			b = append(b, c)
		}
	}
	return string(b)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// render writes the canonical form (see Expr.String).
func (b *binary) render(out []byte) []byte {
	out = renderSide(out, b.l, b.or)
	if b.or {
		out = append(out, " OR "...)
	} else {
		out = append(out, " AND "...)
	}
	return renderSide(out, b.r, b.or)
}

// renderSide parenthesises a side whose operator differs from its parent's;
// a chain of one operator needs no parentheses whichever way it groups.
func renderSide(out []byte, n node, parentOr bool) []byte {
	if c, ok := n.(*binary); ok && c.or != parentOr {
		out = append(out, '(')
		out = c.render(out)
		return append(out, ')')
	}
	return n.render(out)
}

func (g *notGroup) render(out []byte) []byte {
	out = append(out, "NOT ("...)
	out = g.n.render(out)
	return append(out, ')')
}

func (t *term) render(out []byte) []byte {
	info := &kwTable[t.kw]
	if t.not {
		out = append(out, "NOT "...)
	}
	out = append(out, info.name...)
	if info.arg == argNone {
		return out
	}
	out = append(out, ' ')
	if t.equal {
		out = append(out, "= "...)
	}
	switch info.arg {
	case argTime:
		out = append(out, twoDigits(t.num/60)...)
		out = append(out, ':')
		return append(out, twoDigits(t.num%60)...)
	case argDay:
		return append(out, weekdays[t.num][:3]...)
	case argFlags, argLetter:
		return append(out, byte(t.num))
	case argPattern:
		return append(out, t.text...)
	}
	if t.text != "" {
		return append(out, t.text...)
	}
	return strconv.AppendInt(out, int64(t.num), 10)
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

package pattern

import (
	"github.com/bbsmail/bbsmail/ctrl/cescape"

	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Meta is the TAB-separated metadata that may follow a pattern:
// "t=" added, "e=" expires, "p=" protocol, "r=" reason, "u=" user,
// "h=" host, "q=" quiet. Unknown keys are kept in Other.
type Meta struct {
	Added    time.Time // t=; zero when absent
	Expires  time.Time // e=; zero means never
	Protocol string    // p=, e.g. "SMTP"
	Reason   string    // r=
	User     string    // u=
	Host     string    // h=
	Quiet    bool      // q=: the caller should not log a match
	Other    map[string]string
}

// Entry is one pattern line.
type Entry struct {
	Meta
	Line    int    // 1-based line number in the file
	Text    string // the line as written (without the line ending)
	Pattern string // the pattern after '!', escapes and metadata are removed
	Negated bool   // the line began with '!'

	kind   kind
	prefix string // lower-cased; the whole pattern for exact/contains/starts
	suffix string // lower-cased; after '*' for wildcards
	cidr   netip.Prefix
}

type kind uint8

const (
	kindExact kind = iota
	kindContains
	kindStarts
	kindWildcard
	kindCIDR
)

// List is a parsed pattern file. It is immutable and safe for concurrent use.
type List struct {
	entries []Entry
}

// SyntaxError reports a line that cannot be a pattern, such as a CIDR with
// a bad prefix length or an unreadable expiry time.
type SyntaxError struct {
	Line int
	Text string
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Msg, e.Text)
}

// Parse reads a pattern list. Blank lines and lines starting with ';' are
// skipped. It fails only on lines that cannot mean anything (see
// SyntaxError); everything else is accepted as Synchronet would.
func Parse(r io.Reader) (*List, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	l := &List{}
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		e, ok, err := ParseLine(raw)
		if err != nil {
			return nil, &SyntaxError{Line: n, Text: raw, Msg: err.Error()}
		}
		if !ok {
			continue
		}
		e.Line = n
		l.entries = append(l.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pattern: reading line %d: %w", n+1, err)
	}
	return l, nil
}

// MustParse parses s and panics on error; for tests and literals.
func MustParse(s string) *List {
	l, err := Parse(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return l
}

// ParseLine parses one line. ok is false for blank and comment lines.
func ParseLine(raw string) (e Entry, ok bool, err error) {
	text := strings.TrimRight(raw, "\r\n")
	line := strings.TrimLeft(text, " ")
	pat, meta, hasMeta := strings.Cut(line, "\t")
	pat = strings.TrimRight(pat, " \r")
	if pat == "" || pat[0] == ';' {
		return Entry{}, false, nil
	}
	e = Entry{Text: text}
	if hasMeta {
		if e.Meta, err = parseMeta(meta); err != nil {
			return Entry{}, false, err
		}
	}
	if pat[0] == '!' {
		e.Negated = true
		pat = pat[1:]
	}
	e.Pattern = cescape.Unescape(pat)
	if err := e.compile(); err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

func (e *Entry) compile() error {
	p := strings.ToLower(e.Pattern)
	switch {
	case strings.HasSuffix(p, "~"):
		e.kind, e.prefix = kindContains, p[:len(p)-1]
	case strings.HasSuffix(p, "^"):
		e.kind, e.prefix = kindStarts, p[:len(p)-1]
	case strings.Contains(p, "*"):
		// Only the first '*' is a wildcard; a later one is literal.
		e.kind = kindWildcard
		e.prefix, e.suffix, _ = strings.Cut(p, "*")
	default:
		e.kind, e.prefix = kindExact, p
		addr, bits, found := strings.Cut(p, "/")
		if !found {
			return nil
		}
		if _, err := netip.ParseAddr(addr); err != nil {
			return nil // not an address: "a/b" is an ordinary string
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("invalid CIDR prefix length %q", bits)
		}
		e.kind, e.cidr = kindCIDR, pfx.Masked()
	}
	return nil
}

func parseMeta(s string) (Meta, error) {
	var m Meta
	for f := range strings.SplitSeq(s, "\t") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch strings.ToLower(k) {
		case "t":
			m.Added, err = ParseTime(v)
		case "e":
			m.Expires, err = ParseTime(v)
		case "p":
			m.Protocol = v
		case "r":
			m.Reason = v
		case "u":
			m.User = v
		case "h":
			m.Host = v
		case "q":
			m.Quiet = v == "" || !strings.EqualFold(v, "false") && v != "0"
		default:
			if m.Other == nil {
				m.Other = map[string]string{}
			}
			m.Other[k] = v
		}
		if err != nil {
			return Meta{}, fmt.Errorf("metadata %s=: %w", k, err)
		}
	}
	return m, nil
}

// matches reports whether the entry's pattern matches s (case-insensitive).
func (e *Entry) matches(s string) bool {
	if e.kind == kindCIDR {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Unmap().Is4() != e.cidr.Addr().Is4() {
			return false
		}
		return e.cidr.Contains(a.Unmap())
	}
	s = strings.ToLower(s)
	switch e.kind {
	case kindContains:
		return strings.Contains(s, e.prefix)
	case kindStarts:
		return strings.HasPrefix(s, e.prefix)
	case kindWildcard:
		return len(s) >= len(e.prefix)+len(e.suffix) &&
			strings.HasPrefix(s, e.prefix) && strings.HasSuffix(s, e.suffix)
	}
	return s == e.prefix
}

// Expired reports whether the entry has an expiry time at or before now.
func (e *Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Match reports whether any of the strings is matched by the list, with
// Synchronet's rules (see Lookup).
func (l *List) Match(s ...string) bool {
	_, ok := l.Lookup(time.Now(), s...)
	return ok
}

// Lookup evaluates the list top-down at time now, skipping expired entries:
// a normal line matching any of s stops with true; a '!' line matching any
// of s stops with false; otherwise the result is that of the last line
// tested (a non-matching '!' line counts as true), false for an empty list.
// So a file holding only "!x" matches everything but x. The entry returned
// is the line that decided.
func (l *List) Lookup(now time.Time, s ...string) (Entry, bool) {
	if l == nil {
		return Entry{}, false
	}
	var last *Entry
	found := false
	for i := range l.entries {
		e := &l.entries[i]
		if e.Expired(now) {
			continue
		}
		m := false
		for _, str := range s {
			if e.matches(str) {
				m = true
				break
			}
		}
		last = e
		if m {
			if e.Negated {
				return *e, false
			}
			return *e, true
		}
		found = e.Negated
	}
	if found {
		return *last, true
	}
	return Entry{}, false
}

// Entries returns a copy of the parsed entries, in file order.
func (l *List) Entries() []Entry {
	if l == nil {
		return nil
	}
	return append([]Entry(nil), l.entries...)
}

// Len is the number of pattern lines (comments excluded).
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.entries)
}

package ctrl

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// lists opens every filter list once, so a line that cannot be a pattern
// (a CIDR with a bad prefix, an unreadable expiry) stops startup with its
// line number. Afterwards each list re-reads itself when edited.
func (l *loader) lists() error {
	ls := &l.c.Lists
	p := l.c.Paths
	for _, e := range []struct {
		dst  **pattern.File
		dir  string
		name string
	}{
		{&ls.Relay, p.Ctrl, "relay.cfg"},
		{&ls.Domains, p.Ctrl, "domains.cfg"},
		{&ls.DNSBLExempt, p.Ctrl, "dnsbl_exempt.cfg"},
		{&ls.SpamBlock, p.Ctrl, "spamblock.cfg"},
		{&ls.SpamBlockExempt, p.Ctrl, "spamblock_exempt.cfg"},
		{&ls.SpamBait, p.Ctrl, "spambait.cfg"},
		{&ls.TwitList, p.Ctrl, "twitlist.cfg"},
		{&ls.IPFilterExempt, p.Ctrl, "ipfilter_exempt.cfg"},
		{&ls.Email, p.Text, "email.can"},
		{&ls.Subject, p.Text, "subject.can"},
		{&ls.IP, p.Text, "ip.can"},
		{&ls.IPSilent, p.Text, "ip-silent.can"},
		{&ls.Host, p.Text, "host.can"},
		{&ls.Name, p.Text, "name.can"},
		{&ls.SMTPSpy, p.Text, "smtpspy.can"},
	} {
		path := filepath.Join(e.dir, e.name)
		f, err := pattern.OpenFile(path)
		if err != nil {
			var se *pattern.SyntaxError
			if errors.As(err, &se) {
				return &Error{File: l.rel(path), Line: se.Line, Err: fmt.Errorf("%s: %q", se.Msg, se.Text)}
			}
			return &Error{File: l.rel(path), Err: err}
		}
		*e.dst = f
	}
	return nil
}

// eachLine calls fn for every non-blank, non-comment line of a list file
// (trimmed, with its 1-based number). A missing file has no lines.
func (l *loader) eachLine(path string, fn func(line string, n int) error) error {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{File: l.rel(path), Err: err}
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || line[0] == ';' {
			continue
		}
		if err := fn(line, n); err != nil {
			return &Error{File: l.rel(path), Line: n, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &Error{File: l.rel(path), Line: n + 1, Err: err}
	}
	return nil
}

// aliases reads alias.cfg: "<alias><white space><value>" per line.
func (l *loader) aliases() error {
	return l.eachLine(filepath.Join(l.ctrl, "alias.cfg"), func(line string, n int) error {
		f := strings.Fields(line)
		if len(f) < 2 {
			return fmt.Errorf("alias %q has no value (want \"alias  user-or-address\")", f[0])
		}
		name := f[0]
		value := strings.TrimSpace(line[len(name):])
		l.c.Aliases = append(l.c.Aliases, AliasLine{Name: name, Value: value, Line: n})
		return nil
	})
}

// dnsbl reads dns_blacklist.cfg: the zone is the first word, the rest a
// note that Synchronet quotes with the whole line in its replies.
func (l *loader) dnsbl() error {
	return l.eachLine(filepath.Join(l.ctrl, "dns_blacklist.cfg"), func(line string, _ int) error {
		zone := firstWord(line)
		if !validZone(zone) {
			return fmt.Errorf("invalid DNSBL zone %q", zone)
		}
		note := strings.TrimSpace(line[len(zone):])
		l.c.DNSBL = append(l.c.DNSBL, DNSBL{Zone: strings.TrimSuffix(zone, "."), Note: note, Line: line})
		return nil
	})
}

func validZone(z string) bool {
	if z == "" || len(z) > 253 || !strings.Contains(z, ".") {
		return false
	}
	for _, c := range z {
		ok := c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

package ctrl

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl/ini"
)

// mainIni reads the system identity from main.ini (root keys) and keeps
// the file for the [dir] section.
func (l *loader) mainIni() error {
	path := filepath.Join(l.ctrl, "main.ini")
	l.c.Paths.MainIni = path
	f, err := l.readIni(path)
	if err != nil || f == nil {
		if f == nil && err == nil {
			l.warn("main.ini not found: system name, sysop and QWK-ID are blank")
		}
		return err
	}
	l.main = f
	s, root := &l.c.System, f.Root()
	s.Name = root.Value("name")
	s.Operator = root.Value("operator")
	s.InetAddr = root.Value("inetaddr")
	if k, ok := root.Get("qwk_id"); ok && k.Value != "" {
		id := strings.ToUpper(firstWord(k.Value))
		if !validQWKID(id) {
			return l.keyErr(k, "", fmt.Errorf("invalid QWK-ID %q (1-8 letters and digits, starting with a letter)", k.Value))
		}
		s.QWKID = id
	}
	if s.SysMisc, err = l.bits(root, "settings"); err != nil {
		return err
	}
	s.Login, err = l.bits(root, "login")
	return err
}

// msgsIni reads msgs.ini: message settings, the Internet address, FidoNet
// addresses, groups, sub-boards and QWK hubs.
func (l *loader) msgsIni() error {
	path := filepath.Join(l.ctrl, "msgs.ini")
	l.c.Paths.MsgsIni = path
	f, err := l.readIni(path)
	if err != nil || f == nil {
		if f == nil && err == nil {
			l.warn("msgs.ini not found: no sub-boards")
		}
		return err
	}
	s := &l.c.System
	if s.MsgMisc, err = l.bits(f.Root(), "settings"); err != nil {
		return err
	}
	if addr := strings.TrimSpace(f.Section("Internet").Value("addr")); addr != "" {
		s.InetAddr = addr
	}
	if k, ok := f.Section("FidoNet").Get("addr_list"); ok {
		for a := range strings.SplitSeq(k.Value, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			fa, err := ParseFidoAddr(a)
			if err != nil {
				return l.keyErr(k, "FidoNet", err)
			}
			s.FidoAddr = append(s.FidoAddr, fa)
		}
	}
	if err := l.subs(f); err != nil {
		return err
	}
	for _, sec := range f.SectionsWithPrefix("qhub:") {
		hub := QWKHub{ID: strings.ToUpper(sec.Name[len("qhub:"):]), Enabled: true}
		if k, ok := sec.Get("enabled"); ok && k.Value != "" {
			if hub.Enabled, err = ParseBool(k.Value); err != nil {
				return l.keyErr(k, sec.Name, err)
			}
		}
		s.QWKHubs = append(s.QWKHubs, hub)
	}
	return nil
}

func (l *loader) subs(f *ini.File) error {
	s := &l.c.System
	for _, sec := range f.SectionsWithPrefix("grp:") {
		s.Groups = append(s.Groups, Group{
			Name:        sec.Name[len("grp:"):],
			Description: sec.Value("description"),
			CodePrefix:  sec.Value("code_prefix"),
			ARS:         sec.Value("ars"),
		})
	}
	for _, sec := range f.SectionsWithPrefix("sub:") {
		grp, code, ok := strings.Cut(sec.Name[len("sub:"):], ":")
		if !ok || grp == "" || code == "" {
			return &Error{File: l.rel(sec.File), Line: sec.Line, Section: sec.Name,
				Err: errors.New("sub-board section must be [sub:GROUP:CODE]")}
		}
		g, found := Group{}, false
		for _, cand := range s.Groups {
			if strings.EqualFold(cand.Name, grp) {
				g, found = cand, true
				break
			}
		}
		if !found {
			return &Error{File: l.rel(sec.File), Line: sec.Line, Section: sec.Name,
				Err: fmt.Errorf("no [grp:%s] section for this sub-board", grp)}
		}
		for _, k := range []string{"ars", "post_ars"} {
			if _, err := ars.Parse(sec.Value(k)); err != nil {
				l.warn("%s [%s] %s: %v: nobody may post there by mail", l.rel(sec.File), sec.Name, k, err)
			}
		}
		s.Subs = append(s.Subs, Sub{
			Group:       g.Name,
			Code:        g.CodePrefix + code,
			Name:        sec.Value("name"),
			Description: sec.Value("description"),
			ARS:         sec.Value("ars"),
			PostARS:     sec.Value("post_ars"),
		})
	}
	return nil
}

// bits parses a numeric bit-field key (decimal or 0x hex); blank is 0.
func (l *loader) bits(sec *ini.Section, key string) (uint32, error) {
	k, ok := sec.Get(key)
	if !ok || k.Value == "" {
		return 0, nil
	}
	v := firstWord(k.Value)
	base := 10
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		v, base = v[2:], 16
	}
	n, err := strconv.ParseUint(v, base, 32)
	if err != nil {
		return 0, l.keyErr(k, sec.Name, fmt.Errorf("invalid number %q", k.Value))
	}
	return uint32(n), nil
}

func (l *loader) keyErr(k ini.Key, section string, err error) error {
	return &Error{File: l.rel(k.File), Line: k.Line, Section: section, Key: k.Name, Err: err}
}

func validQWKID(id string) bool {
	if len(id) == 0 || len(id) > 8 || id[0] < 'A' || id[0] > 'Z' {
		return false
	}
	for _, c := range id {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// ParseFidoAddr parses zone:net/node[.point][@domain].
func ParseFidoAddr(s string) (FidoAddr, error) {
	var a FidoAddr
	bad := fmt.Errorf("invalid FidoNet address %q (want zone:net/node[.point])", s)
	rest, domain, _ := strings.Cut(strings.TrimSpace(s), "@")
	a.Domain = domain
	zone, rest, ok1 := strings.Cut(rest, ":")
	network, rest, ok2 := strings.Cut(rest, "/")
	node, point, hasPoint := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return FidoAddr{}, bad
	}
	parts := []struct {
		s string
		p *int
	}{{zone, &a.Zone}, {network, &a.Net}, {node, &a.Node}}
	if hasPoint {
		parts = append(parts, struct {
			s string
			p *int
		}{point, &a.Point})
	}
	for _, part := range parts {
		n, err := strconv.ParseUint(part.s, 10, 16)
		if err != nil {
			return FidoAddr{}, bad
		}
		*part.p = int(n)
	}
	if a.Zone == 0 {
		return FidoAddr{}, bad
	}
	return a, nil
}

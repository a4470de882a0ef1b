package mailproc

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// ListEntry is one section of the recipient list (.lst) file, with
// Synchronet's defaults filled in for missing keys.
type ListEntry struct {
	Section         string // the section name, as written between brackets
	To              string // default "unknown"
	ToExt           uint32 // user number; default 0
	ToAgent         int    // default 0 (a person); read, never acted on
	ToNetType       int    // 0 local, 2 FidoNet, 4 QWKnet, 5 Internet
	ToNetAddr       string // default "#<ToExt>"
	SMTPForwardPath string // default ""
	// Bad is set when a numeric value could not be read; such an entry is
	// never delivered.
	Bad string
}

// ReadList parses a recipient list the way Synchronet reads it: sections
// in file order, keys case-insensitive, the first of duplicate keys wins,
// and lines that are neither a section header nor "key=value" are ignored.
// Keys before the first section belong to no recipient. It never fails:
// a damaged entry comes back with Bad set.
func ReadList(data []byte) []ListEntry {
	var out []ListEntry
	var cur map[string]string
	var name string
	flush := func() {
		if cur != nil {
			out = append(out, listEntry(name, cur))
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == ';':
		case line[0] == '[':
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			flush()
			name, cur = strings.TrimSpace(line[1:end]), map[string]string{}
		case cur != nil:
			k, v, ok := strings.Cut(line, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if _, dup := cur[k]; ok && k != "" && !dup {
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	// A line longer than the scanner's buffer ends the list there; what
	// was read so far still counts.
	flush()
	return out
}

func listEntry(name string, kv map[string]string) ListEntry {
	e := ListEntry{Section: name, To: "unknown"}
	if v, ok := kv["to"]; ok {
		e.To = v
	}
	var bad []string
	num := func(key string, bits int) uint64 {
		v, ok := kv[key]
		if !ok || v == "" {
			return 0
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s=%q", kv2name[key], v))
		}
		return n
	}
	e.ToExt = uint32(num("toext", 32))
	e.ToAgent = int(num("toagent", 16))
	e.ToNetType = int(num("tonettype", 16))
	e.ToNetAddr = "#" + strconv.FormatUint(uint64(e.ToExt), 10)
	if v, ok := kv["tonetaddr"]; ok {
		e.ToNetAddr = v
	}
	e.SMTPForwardPath = kv["smtpforwardpath"]
	if len(bad) > 0 {
		e.Bad = "unreadable " + strings.Join(bad, ", ")
	}
	return e
}

var kv2name = map[string]string{"toext": "ToExt", "toagent": "ToAgent", "tonettype": "ToNetType"}

// writeList renders the recipients that processors may see, one section
// each, numbered from 0 as Synchronet numbers them. Sub-board posts and
// dropped (spam bait) recipients have no entry, as in Synchronet; written
// maps each section back to its index in rcpts.
func writeList(rcpts []envelope.Rcpt) (data []byte, entries []ListEntry, written []int) {
	var b bytes.Buffer
	for i, rc := range rcpts {
		if rc.Kind == envelope.KindSub || rc.Kind == envelope.KindDrop {
			continue
		}
		e := toEntry(strconv.Itoa(len(entries)), rc)
		fmt.Fprintf(&b, "[%s]\n", e.Section)
		fmt.Fprintf(&b, "To=%s\n", e.To)
		if e.ToExt != 0 {
			fmt.Fprintf(&b, "ToExt=%d\n", e.ToExt)
		}
		if e.ToNetType != 0 {
			fmt.Fprintf(&b, "ToNetType=%d\n", e.ToNetType)
			fmt.Fprintf(&b, "ToNetAddr=%s\n", e.ToNetAddr)
		}
		if e.SMTPForwardPath != "" {
			fmt.Fprintf(&b, "SMTPForwardPath=%s\n", e.SMTPForwardPath)
		}
		entries = append(entries, e)
		written = append(written, i)
	}
	return b.Bytes(), entries, written
}

// toEntry is the list entry Synchronet writes for a recipient: To is the
// address the client gave (after the forward: and local: prefixes), except
// for FidoNet and QWKnet, where it is the addressee's name.
func toEntry(section string, rc envelope.Rcpt) ListEntry {
	e := ListEntry{Section: section, To: oneLine(rcptAddr(rc)), ToExt: rc.User,
		SMTPForwardPath: oneLine(rc.ForwardPath)}
	if rc.Kind != envelope.KindMailbox && rc.Kind != envelope.KindProcessor {
		e.ToNetType = int(rc.NetType)
		e.ToNetAddr = oneLine(rc.NetAddr)
	}
	if e.ToNetType == 0 {
		e.ToNetAddr = "#" + strconv.FormatUint(uint64(e.ToExt), 10)
	}
	return e
}

// rcptAddr is Synchronet's rcpt_addr for rc: the RCPT argument without
// quotes, the text after the last '<' cut at '>', without the forward:
// and local: prefixes. Copies without a forward path (forwarded to
// netmail) and network recipients use the name resolution gave.
func rcptAddr(rc envelope.Rcpt) string {
	if rc.ForwardPath == "" || rc.Kind == envelope.KindFido || rc.Kind == envelope.KindQWK {
		return rc.To
	}
	s := strings.ReplaceAll(rc.ForwardPath, `"`, "")
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, ">")
	s = strings.TrimSpace(s)
	for _, p := range []string{"forward:", "local:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
		}
	}
	if s == "" {
		return rc.To
	}
	return s
}

// oneLine keeps a value on its line of the list file, trimmed as the
// reader will trim it, so that an untouched entry reads back equal.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", " ").Replace(s)
	}
	return strings.TrimSpace(s)
}

// Unusable is a recipient list entry that cannot become a recipient.
type Unusable struct {
	Entry  ListEntry
	Reason string
}

// fromList turns the list read back into recipients. An entry equal to
// one that was written (whatever its section is now called) is the
// original recipient, trace and all; other entries are new recipients made
// from their keys, or Unusable.
func (s *Set) fromList(read, wrote []ListEntry, orig []envelope.Rcpt, written []int) ([]envelope.Rcpt, []Unusable) {
	claimed := make([]bool, len(wrote))
	var rcpts []envelope.Rcpt
	var bad []Unusable
	for _, e := range read {
		if i := sameEntry(e, wrote, claimed); i >= 0 {
			claimed[i] = true
			rcpts = append(rcpts, orig[written[i]])
			continue
		}
		rc, reason := s.newRcpt(e)
		if reason != "" {
			bad = append(bad, Unusable{Entry: e, Reason: reason})
			continue
		}
		rcpts = append(rcpts, rc)
	}
	return rcpts, bad
}

// sameEntry finds an unclaimed written entry with the same values.
func sameEntry(e ListEntry, wrote []ListEntry, claimed []bool) int {
	for i, w := range wrote {
		w.Section = e.Section
		if !claimed[i] && w == e {
			return i
		}
	}
	return -1
}

// newRcpt builds a recipient from an entry a processor added or edited.
func (s *Set) newRcpt(e ListEntry) (envelope.Rcpt, string) {
	if e.Bad != "" {
		return envelope.Rcpt{}, e.Bad
	}
	rc := envelope.Rcpt{To: e.To, User: e.ToExt, ForwardPath: e.SMTPForwardPath}
	switch envelope.NetType(e.ToNetType) {
	case envelope.NetNone:
		if e.ToExt == 0 {
			return rc, "local recipient without a user number (ToExt)"
		}
		if s.cfg.KnownUser != nil && !s.cfg.KnownUser(e.ToExt) {
			return rc, fmt.Sprintf("no user #%d", e.ToExt)
		}
		rc.Kind = envelope.KindMailbox
	case envelope.NetInternet:
		local, domain := envelope.SplitAddress(e.ToNetAddr)
		if local == "" || domain == "" || strings.ContainsAny(e.ToNetAddr, " \t<>\x00") {
			return rc, fmt.Sprintf("not an Internet address: ToNetAddr=%q", e.ToNetAddr)
		}
		rc.Kind, rc.NetType, rc.NetAddr = envelope.KindRemote, envelope.NetInternet, e.ToNetAddr
		rc.Forwarded = e.ToExt != 0
	case envelope.NetFido:
		if !isFidoAddr(e.ToNetAddr) {
			return rc, fmt.Sprintf("not a FidoNet address: ToNetAddr=%q", e.ToNetAddr)
		}
		rc.Kind, rc.NetType, rc.NetAddr = envelope.KindFido, envelope.NetFido, e.ToNetAddr
	case envelope.NetQWK:
		if e.ToNetAddr == "" || strings.HasPrefix(e.ToNetAddr, "#") || strings.ContainsAny(e.ToNetAddr, " \t@\x00") {
			return rc, fmt.Sprintf("not a QWKnet route: ToNetAddr=%q", e.ToNetAddr)
		}
		rc.Kind, rc.NetType, rc.NetAddr = envelope.KindQWK, envelope.NetQWK, e.ToNetAddr
	default:
		return rc, fmt.Sprintf("unsupported ToNetType=%d", e.ToNetType)
	}
	return rc, ""
}

// isFidoAddr checks the zone:net/node[.point] form (zone not 0).
func isFidoAddr(s string) bool {
	zone, rest, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	netw, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	node, point, hasPoint := strings.Cut(rest, ".")
	z, err := strconv.ParseUint(zone, 10, 16)
	if err != nil || z == 0 {
		return false
	}
	for _, p := range []string{netw, node} {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return false
		}
	}
	if hasPoint {
		if _, err := strconv.ParseUint(point, 10, 16); err != nil {
			return false
		}
	}
	return true
}

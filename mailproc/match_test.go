package mailproc_test

import (
	"reflect"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
)

// RCPT-time matching: which processors a recipient marks, and which one
// (the last consuming one) captures it as a route target.
func TestMatchRcpt(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[Tagger]
	To = *@bbs.example.org
[ListServer]
	To = listserver, listserv
	PassThru = false
[Archive]
	To = listserv
	PassThru = false
[Off]
	To = listserver
	PassThru = false
	Disabled = true
[Clean]
	To = news
	PassThru = false
	ProcessDNSBL = false
[Staff]
	To = staff
	PassThru = false
	AccessRequirements = level 90
[NotJoe]
	To = !joe
[NoTo]
	Command = x.js
`, func(c *mailproc.Config) {
		c.ARS = func(ars string) (func(mailproc.Access) bool, error) {
			return func(a mailproc.Access) bool {
				return ars == "level 90" && a.User == 1 && a.IP == "192.0.2.7" && a.Host == "mx.example.org" && a.Protocol == "SMTPS"
			}, nil
		}
	})
	cases := []struct {
		name, rcpt, addr string
		user             uint32
		listed           bool
		matched          []string
		target           string
	}{
		{"by name", "listserver", "listserver@bbs.example.org", 0, false, []string{"Tagger", "ListServer", "NotJoe"}, "ListServer"},
		{"last consuming wins", "listserv", "listserv@other.example", 0, false, []string{"ListServer", "Archive", "NotJoe"}, "Archive"},
		{"by address", "Sysop Sam", "sysop@bbs.example.org", 0, false, []string{"Tagger", "NotJoe"}, ""},
		{"case-insensitive", "LISTSERVER", "x", 0, false, []string{"ListServer", "NotJoe"}, "ListServer"},
		{"negation", "joe", "joe@elsewhere.example", 0, false, nil, ""},
		{"disabled never captures", "listserver", "x", 0, false, []string{"ListServer", "NotJoe"}, "ListServer"},
		{"DNSBL-listed client skips ProcessDNSBL=false", "news", "news@bbs.example.org", 0, true, []string{"Tagger", "NotJoe"}, ""},
		{"not listed", "news", "news@x", 0, false, []string{"Clean", "NotJoe"}, "Clean"},
		{"access requirements met", "staff", "x", 1, false, []string{"Staff", "NotJoe"}, "Staff"},
		{"access requirements not met", "staff", "x", 2, false, []string{"NotJoe"}, ""},
	}
	for _, c := range cases {
		q := envelope.RcptQuery{Listed: c.listed, ClientIP: "192.0.2.7", ClientHost: "mx.example.org", TLS: true}
		if c.user != 0 {
			q.Auth = &envelope.Identity{User: c.user}
		}
		matched, target := s.MatchRcpt(c.rcpt, c.addr, q)
		if !reflect.DeepEqual(matched, c.matched) || target != c.target {
			t.Errorf("%s: MatchRcpt(%q, %q) = %v, %q; want %v, %q", c.name, c.rcpt, c.addr, matched, target, c.matched, c.target)
		}
	}

	// Without an evaluator a restricted processor never matches; a nil Set
	// matches nothing.
	s2 := tr.load(t, "[Staff]\nTo=staff\nPassThru=false\nAccessRequirements=level 90\n", nil)
	sysop := envelope.RcptQuery{Auth: &envelope.Identity{User: 1}}
	if m, tg := s2.MatchRcpt("staff", "staff@x", sysop); m != nil || tg != "" {
		t.Errorf("restricted without evaluator: %v %q", m, tg)
	}
	var none *mailproc.Set
	if m, tg := none.MatchRcpt("staff", "staff@x", sysop); m != nil || tg != "" || none.Len() != 0 {
		t.Errorf("nil set: %v %q", m, tg)
	}
}

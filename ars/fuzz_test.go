package ars_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ars"
)

// FuzzParse checks that no string makes Parse or Eval panic, and that the
// canonical form of anything accepted parses back to the same requirement
// with the same answers.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "LEVEL 60", "$L60$FA", "FLAG 2 NOT G", "USER=0 OR GUEST",
		"(TIME 9 AND NOT 17) OR SYSOP", "HOST!=LOCALHOST&IP!=127.0.0.1",
		"IP 10.0.0.0/8", "DAY MON", "COLS 80 AND ANSI", "NOT (NOT (A))",
	} {
		f.Add(s)
	}
	subjects := []ars.Subject{
		{},
		{Number: 1, Alias: "Sysop", Level: 99, Flags: [4]string{"ABC", "D", "E", "Z"}, Exempt: "W", Restrict: "GQ",
			Sex: "M", Birth: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), IP: netip.MustParseAddr("2001:db8::1"),
			Host: "h.example", Protocol: "POP3", SubCode: "X", Now: time.Date(2024, 6, 1, 23, 59, 0, 0, time.UTC)},
		{Number: 7, Level: 20, Deleted: true, Inactive: true, IP: netip.MustParseAddr("127.0.0.1"),
			Now: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)},
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ars.Parse(s)
		if err != nil {
			if e != nil {
				t.Fatalf("Parse(%q) returned both %v and an error", s, e)
			}
			return
		}
		canon := e.String()
		again, err := ars.Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", s, canon, again.String())
		}
		for _, subject := range subjects {
			if e.Eval(subject) != again.Eval(subject) {
				t.Fatalf("%q and its canonical form %q disagree for %+v", s, canon, subject)
			}
		}
		_ = e.Warnings()
	})
}

package ars_test

import (
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ars"
)

// wednesday is 2024-03-13 14:30, a Wednesday afternoon.
var wednesday = time.Date(2024, 3, 13, 14, 30, 0, 0, time.UTC)

// member is a logged-in user with a bit of everything set.
func member() ars.Subject {
	return ars.Subject{
		Number:   42,
		Alias:    "Digital Man",
		Level:    50,
		Flags:    [4]string{"AB", "c", "", "Z"},
		Exempt:   "W",
		Restrict: "M",
		Sex:      "F",
		Birth:    time.Date(2000, 3, 13, 0, 0, 0, 0, time.UTC), // 24 today
		IP:       netip.MustParseAddr("192.0.2.7"),
		Host:     "mail.example.com",
		Protocol: "SMTPS",
		SubCode:  "LOCAL-GENERAL",
		Now:      wednesday,
	}
}

// with changes a copy of member.
func with(change func(*ars.Subject)) ars.Subject {
	s := member()
	change(&s)
	return s
}

func TestEvalKeywords(t *testing.T) {
	t.Parallel()
	anon := ars.Subject{Now: wednesday, IP: netip.MustParseAddr("198.51.100.1"), Protocol: "SMTP"}
	sysop := with(func(s *ars.Subject) { s.Level = ars.SysopLevel })
	guest := with(func(s *ars.Subject) { s.Restrict = "GM" })
	tests := []struct {
		name string
		ars  string
		s    ars.Subject
		want bool
	}{
		{"empty lets everyone in", "", anon, true},

		// LEVEL: at least, NOT is below, = is exactly.
		{"level at the boundary", "LEVEL 50", member(), true},
		{"level one above", "LEVEL 51", member(), false},
		{"level below", "LEVEL 49", member(), true},
		{"not level at the boundary", "NOT LEVEL 50", member(), false},
		{"not level one above", "NOT LEVEL 51", member(), true},
		{"level equal", "LEVEL = 50", member(), true},
		{"level equal misses higher", "LEVEL = 49", member(), false},
		{"level not equal", "LEVEL != 49", member(), true},
		{"level 0 admits user 0", "LEVEL 0", anon, true},
		{"level 1 refuses user 0", "LEVEL 1", anon, false},

		// SYSOP is level 90 or more.
		{"sysop at 90", "SYSOP", sysop, true},
		{"sysop at 89", "SYSOP", with(func(s *ars.Subject) { s.Level = 89 }), false},
		{"not sysop", "NOT SYSOP", member(), true},

		// USER: number at least / exactly, or a user name.
		{"user equal", "USER = 42", member(), true},
		{"user equal other", "USER = 41", member(), false},
		{"user at least", "USER 42", member(), true},
		{"user at least above", "USER 43", member(), false},
		{"user number above 16 bits", "USER = 70000", with(func(s *ars.Subject) { s.Number = 70000 }), true},
		{"user equal 0 is nobody logged in", "USER = 0", anon, true},
		{"user equal 0 refuses a user", "USER = 0", member(), false},
		{"user name", "USER digital_man", member(), true},
		{"user name ignores punctuation", "USER Digital.Man", member(), true},
		{"user name as address", "USER DigitalMan@bbs.example", member(), true},
		{"user name other", "USER Digital", member(), false},
		{"user name needs a user", "USER Digital", anon, false},

		// AGE from the birth date, counted in full years.
		{"age on the birthday", "AGE 24", member(), true},
		{"age a day before the birthday", "AGE 24", with(func(s *ars.Subject) { s.Now = wednesday.AddDate(0, 0, -1) }), false},
		{"age equal", "AGE = 24", member(), true},
		{"age unknown is 0", "AGE 1", with(func(s *ars.Subject) { s.Birth = time.Time{} }), false},
		{"age unknown equals 0", "AGE = 0", with(func(s *ars.Subject) { s.Birth = time.Time{} }), true},

		// SEX compares the letter, ignoring case.
		{"sex", "SEX F", member(), true},
		{"sex lower case", "sex f", member(), true},
		{"sex other", "SEX M", member(), false},
		{"sex unknown", "SEX F", anon, false},

		// Flags: held letter, or = the only one.
		{"flag set 1", "FLAG A", member(), true},
		{"flag set 1 other", "FLAG C", member(), false},
		{"flag set 2 held in lower case", "FLAG 2C", member(), true},
		{"flag set 3 empty", "FLAG 3A", member(), false},
		{"flag set 4", "FLAG 4Z", member(), true},
		{"flag run needs all", "FLAG AB", member(), true},
		{"flag run missing one", "FLAG AC", member(), false},
		{"flag or", "FLAG C OR B", member(), true},
		{"flag equal only flag", "FLAG 2 = C", member(), true},
		{"flag equal with more held", "FLAG = A", member(), false},
		{"not flag", "NOT FLAG C", member(), true},
		{"exempt", "EXEMPT W", member(), true},
		{"exempt other", "EXEMPT X", member(), false},
		{"rest", "REST M", member(), true},
		{"not rest", "NOT REST M", member(), false},
		{"flags of user 0", "FLAG A OR EXEMPT A OR REST A", anon, false},

		// Account state and special restrictions.
		{"guest is restriction G", "GUEST", guest, true},
		{"member is no guest", "GUEST", member(), false},
		{"qnode is restriction Q", "QNODE", with(func(s *ars.Subject) { s.Restrict = "Q" }), true},
		{"active", "ACTIVE", member(), true},
		{"deleted is not active", "ACTIVE", with(func(s *ars.Subject) { s.Deleted = true }), false},
		{"inactive is not active", "ACTIVE", with(func(s *ars.Subject) { s.Inactive = true }), false},
		{"deleted", "DELETED", with(func(s *ars.Subject) { s.Deleted = true }), true},
		{"inactive", "INACTIVE", with(func(s *ars.Subject) { s.Inactive = true }), true},
		{"not deleted", "NOT DELETED", member(), true},

		// TIME and DAY against the injected clock.
		{"time before now", "TIME 14:30", member(), true},
		{"time one minute later", "TIME 14:31", member(), false},
		{"not time later", "NOT TIME 15", member(), true},
		{"time window", "TIME 9 AND NOT 17", member(), true},
		{"time window closed", "TIME 9 AND NOT 17", with(func(s *ars.Subject) { s.Now = wednesday.Add(3 * time.Hour) }), false},
		{"day is at least", "DAY WED", member(), true},
		{"day later in the week", "DAY THU", member(), false},
		{"day equal", "DAY = 3", member(), true},
		{"day equal other", "DAY = TUE", member(), false},
		{"not day saturday", "NOT DAY SAT", member(), true},

		// Session: host, IP, protocol, sub-board.
		{"host exact ignores case", "HOST MAIL.EXAMPLE.COM", member(), true},
		{"host wildcard", "HOST *.example.com", member(), true},
		{"host wildcard other", "HOST *.example.org", member(), false},
		{"host prefix", "HOST mail.^", member(), true},
		{"host substring", "HOST example~", member(), true},
		{"host negated", "HOST !*.example.com", member(), false},
		{"host second star is literal", "HOST *.example.*", member(), false},
		{"ip exact", "IP 192.0.2.7", member(), true},
		{"ip wildcard", "IP 192.0.2.*", member(), true},
		{"ip cidr", "IP 192.0.2.0/24", member(), true},
		{"ip cidr other", "IP 198.51.100.0/24", member(), false},
		{"ip mapped ipv4", "IP 192.0.2.0/24", with(func(s *ars.Subject) { s.IP = netip.MustParseAddr("::ffff:192.0.2.7") }), true},
		{"ipv6 written differently", "IP 2001:DB8:0::1", with(func(s *ars.Subject) { s.IP = netip.MustParseAddr("2001:db8::1") }), true},
		{"ipv6 cidr", "IP 2001:db8::/32", with(func(s *ars.Subject) { s.IP = netip.MustParseAddr("2001:db8::1") }), true},
		{"no ip", "IP 192.0.2.0/24", with(func(s *ars.Subject) { s.IP = netip.Addr{} }), false},
		{"not ip loopback", "IP!=127.0.0.1", member(), true},
		{"protocol", "PROT smtps", member(), true},
		{"protocol other", "PROT POP3", member(), false},
		{"protocol prefix", "PROT SMTP^", member(), true},
		{"subcode", "SUBCODE local-general", member(), true},
		{"subcode wildcard", "SUB LOCAL-*", member(), true},
		{"subcode other", "SUBCODE LOCAL-SYSOP", member(), false},
		{"subcode without a sub-board", "SUBCODE *", anon, false},

		// Operators and nesting.
		{"or", "SYSOP OR FLAG A", member(), true},
		{"and", "LEVEL 50 AND FLAG A", member(), true},
		{"and fails", "LEVEL 50 AND FLAG C", member(), false},
		{"implicit and", "LEVEL 50 FLAG C", member(), false},
		{"not group", "NOT (FLAG A OR SYSOP)", member(), false},
		{"nested", "((LEVEL 80 OR FLAG A) AND AGE 18) OR LEVEL 90", member(), true},
		{"nested too young", "((LEVEL 80 OR FLAG A) AND AGE 25) OR LEVEL 90", member(), false},
		{"nested sysop", "((LEVEL 80 OR FLAG A) AND AGE 25) OR LEVEL 90", sysop, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ars.Check(tc.ars, tc.s)
			if err != nil {
				t.Fatalf("Check(%q): %v", tc.ars, err)
			}
			if got != tc.want {
				t.Errorf("Check(%q) = %v, want %v", tc.ars, got, tc.want)
			}
		})
	}
}

// AND and OR have equal precedence and group to the right, which is what
// Synchronet's left-to-right evaluation amounts to. These subjects tell the
// reading apart from the usual "AND binds tighter".
func TestEvalGroupsToTheRight(t *testing.T) {
	t.Parallel()
	noFlagsSysop := with(func(s *ars.Subject) { s.Level = 95; s.Flags = [4]string{} })
	tests := []struct {
		name string
		ars  string
		s    ars.Subject
		want bool
	}{
		// LEVEL 60 AND (FLAG X OR SYSOP): a sysop without X is in.
		{"and before or: sysop without flag", "LEVEL 60 AND FLAG X OR SYSOP", noFlagsSysop, true},
		// FLAG X AND (FLAG A OR LEVEL 10) is false for member, who lacks X;
		// the usual reading (X AND A) OR LEVEL 10 would let her in.
		{"and before or denies", "FLAG X AND FLAG A OR LEVEL 10", member(), false},
		{"explicit grouping admits", "(FLAG X AND FLAG A) OR LEVEL 10", member(), true},
		// SYSOP OR LEVEL 10 AND FLAG X: SYSOP OR (LEVEL 10 AND FLAG X).
		{"or before and", "SYSOP OR LEVEL 10 AND FLAG X", member(), false},
		{"or before and, sysop", "SYSOP OR LEVEL 10 AND FLAG X", noFlagsSysop, true},
		// A run of flag letters is ANDed, then grouped the same way.
		{"flag run then or", "FLAG BX OR LEVEL 10", member(), true},
		{"flag run then or, first letter missing", "FLAG XB OR LEVEL 10", member(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ars.Check(tc.ars, tc.s)
			if err != nil {
				t.Fatalf("Check(%q): %v", tc.ars, err)
			}
			if got != tc.want {
				e, _ := ars.Parse(tc.ars)
				t.Errorf("Check(%q) (read as %q) = %v, want %v", tc.ars, e, got, tc.want)
			}
		})
	}
}

// Keywords a mail server cannot evaluate never grant access: the result
// must hold whatever they would have been.
func TestUnsupportedKeywordsFailClosed(t *testing.T) {
	t.Parallel()
	sysop := with(func(s *ars.Subject) { s.Level = 99 })
	tests := []struct {
		ars         string
		s           ars.Subject
		want        bool
		unsupported []string
	}{
		{"ANSI", sysop, false, []string{"ANSI"}},
		{"NOT ANSI", sysop, false, []string{"ANSI"}},
		{"!$[", sysop, false, []string{"ANSI"}},
		{"NOT (COLS 80 OR RIP)", sysop, false, []string{"COLS", "RIP"}},
		{"SYSOP OR ANSI", sysop, true, []string{"ANSI"}},
		{"SYSOP OR ANSI", member(), false, []string{"ANSI"}},
		{"ANSI OR SYSOP", sysop, true, []string{"ANSI"}},
		{"GUEST AND ANSI", member(), false, []string{"ANSI"}},
		{"NOT (GUEST AND ANSI)", member(), true, []string{"ANSI"}},
		{"ANSI AND !GUEST", sysop, false, []string{"ANSI"}},
		{"COLS 80 AND ANSI", sysop, false, []string{"COLS", "ANSI"}},
		{"BPS 9600 OR NOT TIME 19:00", member(), true, []string{"BPS"}},
		{"BPS 9600 OR NOT TIME 14:00", member(), false, []string{"BPS"}},
		{"NODE 1 OR TLEFT 10 OR TUSED 5 OR CREDIT 1 OR PCR 5 OR UDR 5 OR UDFR 5", sysop, false,
			[]string{"NODE", "TLEFT", "TUSED", "CREDIT", "PCR", "UDR", "UDFR"}},
		{"NOT (EXPIRE 1 OR LASTON 1 OR LOGONS 1 OR RANDOM 1 OR MAIN_CMDS 1 OR FILE_CMDS 1)", sysop, false,
			[]string{"EXPIRE", "LASTON", "LOGONS", "RANDOM", "MAIN_CMDS", "FILE_CMDS"}},
		{"ULS 1 OR ULK 1 OR ULM 1 OR DLS 1 OR DLT 1 OR DLK 1 OR DLM 1", sysop, false,
			[]string{"ULS", "ULK", "ULM", "DLS", "DLT", "DLK", "DLM"}},
		{"WIP OR PETSCII OR ASCII OR UTF8 OR CP437 OR EXPERT OR QUIET OR LOCAL OR DOS", sysop, false,
			[]string{"WIP", "PETSCII", "ASCII", "UTF8", "CP437", "EXPERT", "QUIET", "LOCAL", "DOS"}},
		{"GROUP 1 OR LIB 1 OR DIR 1 OR DIRCODE X OR SUB 1 OR SHELL X OR TERM X OR LANG X OR PROP X OR NULL OR ROWS 1", sysop, false,
			[]string{"GROUP", "LIB", "DIR", "DIRCODE", "SUB", "SHELL", "TERM", "LANG", "PROP", "NULL", "ROWS"}},
		{"ANSI OR ANSI", sysop, false, []string{"ANSI"}},
		{"LEVEL 10 AND FLAG A", member(), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.ars, func(t *testing.T) {
			t.Parallel()
			e, err := ars.Parse(tc.ars)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Eval(tc.s); got != tc.want {
				t.Errorf("Eval(%q) = %v, want %v", tc.ars, got, tc.want)
			}
			if got := e.Unsupported(); !slices.Equal(got, tc.unsupported) {
				t.Errorf("Unsupported() = %q, want %q", got, tc.unsupported)
			}
			if len(e.Warnings()) < len(tc.unsupported) {
				t.Errorf("Warnings() = %q, want one per unsupported keyword", e.Warnings())
			}
		})
	}
}

func TestOperatingSystemKeywords(t *testing.T) {
	t.Parallel()
	unix := runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1"
	for _, tc := range []struct {
		ars  string
		want bool
	}{
		{"UNIX", unix},
		{"LINUX", runtime.GOOS == "linux" || runtime.GOOS == "android"},
		{"WIN32", runtime.GOOS == "windows"},
		{"OS2", false},
		{"NOT OS2", true},
	} {
		got, err := ars.Check(tc.ars, member())
		if err != nil || got != tc.want {
			t.Errorf("Check(%q) on %s = %v, %v; want %v", tc.ars, runtime.GOOS, got, err, tc.want)
		}
	}
}

func TestWarningsExplainMixedOperators(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ars   string
		mixed bool
	}{
		{"LEVEL 60 AND FLAG X OR SYSOP", true},
		{"FLAG XY OR SYSOP", true},
		{"(LEVEL 60 AND FLAG X) OR SYSOP", false},
		{"LEVEL 60 AND (FLAG X OR SYSOP)", false},
		{"FLAG A OR B OR C", false},
		{"LEVEL 60 FLAG XYZ", false},
		{"", false},
	} {
		e, err := ars.Parse(tc.ars)
		if err != nil {
			t.Fatal(err)
		}
		var got bool
		for _, w := range e.Warnings() {
			got = got || (len(w) > 0 && w[:3] == "AND")
		}
		if got != tc.mixed {
			t.Errorf("Parse(%q).Warnings() = %q, want a mixed-operator warning: %v", tc.ars, e.Warnings(), tc.mixed)
		}
	}
}

// A nil *Expr is "no requirement", so a caller can keep an optional one.
func TestNilExprAdmitsEveryone(t *testing.T) {
	t.Parallel()
	var e *ars.Expr
	if !e.Eval(ars.Subject{}) || !e.Empty() || e.String() != "" || e.Source() != "" || e.Unsupported() != nil || e.Warnings() != nil {
		t.Errorf("nil Expr: Eval=%v Empty=%v String=%q", e.Eval(ars.Subject{}), e.Empty(), e.String())
	}
	blank, err := ars.Parse("  ")
	if err != nil || !blank.Empty() || !blank.Eval(ars.Subject{}) {
		t.Errorf("blank requirement: %v, %v", blank, err)
	}
	if full, _ := ars.Parse("SYSOP"); full.Empty() {
		t.Error("SYSOP reported as empty")
	}
}

// The zero Now means the real clock; TIME 0 holds at any time of day.
func TestZeroNowUsesTheClock(t *testing.T) {
	t.Parallel()
	ok, err := ars.Check("TIME 0 AND DAY SUN", ars.Subject{})
	if err != nil || !ok {
		t.Errorf("TIME 0 AND DAY SUN with the real clock = %v, %v", ok, err)
	}
}

// Unsupported returns a copy; a caller editing it cannot change the Expr.
func TestUnsupportedIsACopy(t *testing.T) {
	t.Parallel()
	e, err := ars.Parse("ANSI")
	if err != nil {
		t.Fatal(err)
	}
	e.Unsupported()[0] = "X"
	if e.Unsupported()[0] != "ANSI" {
		t.Error("Unsupported() exposes the Expr's own slice")
	}
}

// The examples of docs/ars.md do what the page says.
func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	office := netip.MustParseAddr("192.0.2.10")
	away := netip.MustParseAddr("198.51.100.10")
	tests := []struct {
		ars  string
		s    ars.Subject
		want bool
	}{
		{"NOT GUEST", with(func(s *ars.Subject) { s.Restrict = "G" }), false},
		{"LEVEL 20 AND NOT REST L", with(func(s *ars.Subject) { s.Restrict = "L" }), false},
		{"LEVEL 20 AND NOT REST L", member(), true},
		{"NOT PROT POP3^ OR IP 192.0.2.0/24", with(func(s *ars.Subject) { s.Protocol = "POP3S"; s.IP = away }), false},
		{"NOT PROT POP3^ OR IP 192.0.2.0/24", with(func(s *ars.Subject) { s.Protocol = "POP3"; s.IP = office }), true},
		{"NOT PROT POP3^ OR IP 192.0.2.0/24", with(func(s *ars.Subject) { s.Protocol = "SMTP"; s.IP = away }), true},
		{"USER = 0 OR GUEST", ars.Subject{}, true},
		{"SYSOP OR FLAG 2P", with(func(s *ars.Subject) { s.Flags[1] = "P" }), true},
		{"(LEVEL 50 AND NOT REST P) OR SYSOP", member(), true},
		{"(AGE 18 AND SEX F) OR 90", with(func(s *ars.Subject) { s.Sex = "M"; s.Level = 90 }), true},
		{"DAY MON OR WED", member(), true},
		{"HOST mail.*.example", with(func(s *ars.Subject) { s.Host = "mail.eu.example" }), true},
	}
	for _, tc := range tests {
		got, err := ars.Check(tc.ars, tc.s)
		if err != nil || got != tc.want {
			t.Errorf("Check(%q) = %v, %v; want %v", tc.ars, got, err, tc.want)
		}
	}
}

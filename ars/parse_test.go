package ars_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ars"
)

// The canonical form shows how a string was read: which keyword each value
// belongs to, where NOT and = apply, and how AND and OR group. A sysop sees
// it in "bbsmail check", so a wrong reading here is a wrong door.
func TestParseReadsLikeSynchronet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		// Keyword, short form, no space, lower case, bare number.
		{"keyword", "LEVEL 60", "LEVEL 60"},
		{"no space", "LEVEL60", "LEVEL 60"},
		{"short form", "$L 60", "LEVEL 60"},
		{"short form lower case", "$l60", "LEVEL 60"},
		{"lower case", "level 60", "LEVEL 60"},
		{"mixed case", "LeVeL 60", "LEVEL 60"},
		{"bare number is a level", "60", "LEVEL 60"},
		{"tabs are spaces", "LEVEL\t60\tAND\tSYSOP", "LEVEL 60 AND SYSOP"},

		// NOT before or after the keyword, as a word or '!'.
		{"not before", "NOT LEVEL 60", "NOT LEVEL 60"},
		{"not after", "LEVEL NOT 60", "NOT LEVEL 60"},
		{"bang after", "LEVEL !60", "NOT LEVEL 60"},
		{"bang short", "$L!60", "NOT LEVEL 60"},
		{"bang bare", "!60", "NOT LEVEL 60"},
		{"not boolean", "not guest", "NOT GUEST"},
		{"bang boolean", "!SYSOP", "NOT SYSOP"},

		// Equality spellings.
		{"equal", "LEVEL EQUAL 50", "LEVEL = 50"},
		{"equals", "LEVEL EQUALS 50", "LEVEL = 50"},
		{"equal to", "LEVEL EQUAL TO 50", "LEVEL = 50"},
		{"equal sign", "LEVEL = 50", "LEVEL = 50"},
		{"equal sign tight", "LEVEL=50", "LEVEL = 50"},
		{"bare equal", "=50", "LEVEL = 50"},
		{"not equal to", "USER NOT EQUAL TO 7", "NOT USER = 7"},
		{"not equal short", "$U!=7", "NOT USER = 7"},
		{"equal ignored for time", "TIME = 8", "TIME 08:00"},
		{"equal ignored for text", "HOST=a.example", "HOST a.example"},

		// Flags: sets, letter runs, NOT anywhere before the letter.
		{"flag set 1 implied", "FLAG A", "FLAG1 A"},
		{"flag set spaced", "FLAG 3 B", "FLAG3 B"},
		{"flag set tight", "FLAG3B", "FLAG3 B"},
		{"flag word tight", "FLAGB", "FLAG1 B"},
		{"flag short", "$F4C", "FLAG4 C"},
		{"flag lower case", "flag 2 c", "FLAG2 C"},
		{"flag run is AND", "FLAG KLM", "FLAG1 K AND FLAG1 L AND FLAG1 M"},
		{"flag run separated", "FLAG K L M", "FLAG1 K AND FLAG1 L AND FLAG1 M"},
		{"not before flag", "NOT FLAG 2D", "NOT FLAG2 D"},
		{"not after flag", "FLAG NOT 2D", "NOT FLAG2 D"},
		{"not after set", "FLAG 2 NOT D", "NOT FLAG2 D"},
		{"not short forms", "$F2!D", "NOT FLAG2 D"},
		{"not applies to first letter only", "NOT FLAG DE", "NOT FLAG1 D AND FLAG1 E"},
		{"exempt", "EXEMPT W", "EXEMPT W"},
		{"exempt short", "$XW", "EXEMPT W"},
		{"restriction", "REST Q", "REST Q"},
		{"restriction short", "$ZQ", "REST Q"},

		// A bare value continues the previous keyword ("sticky").
		{"sticky level", "LEVEL 20 OR 30", "LEVEL 20 OR LEVEL 30"},
		{"sticky flag letters", "FLAG B OR C OR D", "FLAG1 B OR FLAG1 C OR FLAG1 D"},
		{"sticky flag keeps set", "FLAG2B|C", "FLAG2 B OR FLAG2 C"},
		{"new FLAG resets set", "FLAG 2B OR FLAG C", "FLAG2 B OR FLAG1 C"},
		{"sticky time", "TIME 9 AND NOT 17:30", "TIME 09:00 AND NOT TIME 17:30"},
		{"sticky day name", "DAY MON AND NOT FRI", "DAY MON AND NOT DAY FRI"},
		{"sticky IP by digit", "IP 10.1.1.1 OR 10.1.1.2", "IP 10.1.1.1 OR IP 10.1.1.2"},
		{"sticky text by symbol", "HOST a.example OR *.b.example", "HOST a.example OR HOST *.b.example"},
		{"boolean ends sticky", "AGE 30 OR SYSOP OR 40", "AGE 30 OR SYSOP OR LEVEL 40"},
		{"parenthesis ends sticky", "(AGE 30 AND SEX M) OR 40", "(AGE 30 AND SEX M) OR LEVEL 40"},
		{"sticky does not enter parentheses", "AGE 30 OR (40 AND SYSOP)", "AGE 30 OR (LEVEL 40 AND SYSOP)"},

		// Terms written together.
		{"short forms run together", "$L20$FB", "LEVEL 20 AND FLAG1 B"},
		{"number then short form", "20$FB", "LEVEL 20 AND FLAG1 B"},
		{"one-letter value runs into next", "($SF$A30)|($SM$A40)", "(SEX F AND AGE 30) OR (SEX M AND AGE 40)"},
		{"sex tight", "SEXM|LEVEL80", "SEX M OR LEVEL 80"},
		{"time tight", "$T9|!TIME21", "TIME 09:00 OR NOT TIME 21:00"},
		{"ip tight", "IP10.0.0.*", "IP 10.0.0.*"},
		{"implicit and", "LEVEL 20 FLAG B", "LEVEL 20 AND FLAG1 B"},
		{"ampersand", "LEVEL 20 & FLAG B", "LEVEL 20 AND FLAG1 B"},
		{"pipe", "LEVEL 20 | FLAG B", "LEVEL 20 OR FLAG1 B"},

		// Grouping: equal precedence, grouped to the right.
		{"and then or", "LEVEL 20 AND FLAG B OR SYSOP", "LEVEL 20 AND (FLAG1 B OR SYSOP)"},
		{"or then and", "SYSOP OR LEVEL 20 AND FLAG B", "SYSOP OR (LEVEL 20 AND FLAG1 B)"},
		{"implicit and then or", "FLAG BC OR SYSOP", "FLAG1 B AND (FLAG1 C OR SYSOP)"},
		{"long chain", "AGE 1 OR AGE 2 AND AGE 3 OR AGE 4", "AGE 1 OR (AGE 2 AND (AGE 3 OR AGE 4))"},
		{"left group kept", "(SYSOP OR FLAG B) AND AGE 30", "(SYSOP OR FLAG1 B) AND AGE 30"},
		{"redundant parentheses dropped", "((LEVEL 20))", "LEVEL 20"},
		{"same operator needs none", "(SYSOP OR GUEST) OR LEVEL 20", "SYSOP OR GUEST OR LEVEL 20"},
		{"nested", "((LEVEL 80 OR FLAG S) AND AGE 18) OR LEVEL 90", "((LEVEL 80 OR FLAG1 S) AND AGE 18) OR LEVEL 90"},
		{"not group", "NOT (USER=3 OR USER=4)", "NOT (USER = 3 OR USER = 4)"},
		{"not group of one term", "!(LEVEL 20)", "NOT LEVEL 20"},
		{"double negation cancels", "NOT (NOT (SYSOP OR GUEST))", "SYSOP OR GUEST"},

		// Text and number-or-text keywords.
		{"user number", "USER 12", "USER 12"},
		{"user name", "USER Sysop", "USER Sysop"},
		{"user name with digits", "USER 2cool", "USER 2cool"},
		{"user name keeps keyword-like text", "USER Sysop2", "USER Sysop2"},
		{"host keeps keyword-like text", "HOST localhost", "HOST localhost"},
		{"host negated", "HOST !*.example.com", "NOT HOST *.example.com"},
		{"not word before text", "HOST NOT mail.example", "NOT HOST mail.example"},
		{"text with not inside", "PROT NOTIFY", "PROT NOTIFY"},
		{"bang inside text", "HOST a!b", "HOST a!b"},
		{"host and ip negated", "HOST!=LOCALHOST&IP!=127.0.0.1", "NOT HOST LOCALHOST AND NOT IP 127.0.0.1"},
		{"cidr", "IP 192.0.2.0/24", "IP 192.0.2.0/24"},
		{"ipv6", "IP 2001:db8::/32", "IP 2001:db8::/32"},
		{"protocol", "PROT SMTPS", "PROT SMTPS"},
		{"subcode", "SUBCODE LOCAL-GENERAL", "SUBCODE LOCAL-GENERAL"},
		{"sub with a code", "SUB local-general", "SUBCODE local-general"},
		{"sub code starting with a digit", "SUB 3dprint", "SUBCODE 3dprint"},
		{"sub number", "SUB 3", "SUB 3"},

		// Days and times.
		{"day number", "DAY 3", "DAY WED"},
		{"day full name", "DAY thursday", "DAY THU"},
		{"day two letters", "DAY SU", "DAY SUN"},
		{"day short", "$WSA", "DAY SAT"},
		{"day equal", "DAY = TUE", "DAY = TUE"},
		{"time minutes", "TIME 7:05", "TIME 07:05"},
		{"time midnight", "TIME 0", "TIME 00:00"},
		{"time last minute", "TIME 23:59", "TIME 23:59"},

		// Unsupported keywords parse.
		{"terminal keywords", "COLS 80 AND ANSI", "COLS 80 AND ANSI"},
		{"ansi short", "$[", "ANSI"},
		{"rip short", "$*", "RIP"},
		{"null short", "$0", "NULL"},
		{"shell", "SHELL LBSHELL", "SHELL LBSHELL"},
		{"property", "PROP [sec]key", "PROP [sec]key"},
		{"credit short", "$C 100", "CREDIT 100"},
		{"counters", "ULS 5 DLK 6 MAIN_CMDS 7", "ULS 5 AND DLK 6 AND MAIN_CMDS 7"},

		// Nothing at all.
		{"empty", "", ""},
		{"blank", "   ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := ars.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q) reads as %q, want %q", tc.in, got, tc.want)
			}
			if e.Source() != tc.in {
				t.Errorf("Source() = %q, want %q", e.Source(), tc.in)
			}
			again, err := ars.Parse(e.String())
			if err != nil || again.String() != e.String() {
				t.Errorf("canonical form %q does not parse back to itself: %v, %v", e.String(), again, err)
			}
		})
	}
}

// Where Synchronet silently drops what it cannot read, bbsmail refuses the
// string and says where: a requirement that quietly vanished would let
// everyone in.
func TestParseErrorsNameTheColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		column int
		near   string
		msg    string
	}{
		{"LEVLE 50", 1, "LEVLE", "unknown word"},
		{"LEVEL 50 AND SYSOPS", 14, "SYSOPS", "unknown word"},
		{"HOSTNAME x", 1, "HOSTNAME", "unknown word"},
		{"HOST a.example OR b.example", 19, "b.example", "write the keyword before each text value"},
		{"FLAG A OR BC", 11, "BC", "unknown word"},
		{"LEVEL", 1, "LEVEL", "LEVEL needs a number"},
		{"LEVEL OR SYSOP", 1, "LEVEL", "LEVEL needs a number"},
		{"LEVEL SYSOP", 7, "SYSOP", "LEVEL needs a number"},
		{"FLAG", 1, "FLAG", "FLAG1 needs a flag letter"},
		{"FLAG 2", 1, "FLAG", "FLAG2 needs a flag letter"},
		{"FLAG 5A", 6, "5A", "FLAG set must be 1, 2, 3 or 4"},
		{"FLAG 12", 6, "12", "FLAG set must be 1, 2, 3 or 4"},
		{"EXEMPT 1A", 8, "1A", "EXEMPT needs a flag letter"},
		{"FLAG A 2", 8, "2", "FLAG1 needs a flag letter"},
		{"SEX FEMALE", 5, "FEMALE", "SEX needs one letter"},
		{"HOST", 1, "HOST", "HOST needs a text value"},
		{"HOST (x)", 6, "(", "HOST needs a text value"},
		{"USER", 1, "USER", "USER needs a number or a name"},
		{"LEVEL 256", 7, "256", "LEVEL value is larger than 255"},
		{"USER 4294967296", 6, "4294967296", "USER value is larger than 4294967295"},
		{"SUB 65536", 5, "65536", "SUB value is larger than 65535"},
		{"LEVEL 99999999999999999999999", 7, "99999999999999999999999", "larger than 255"},
		{"TIME 24", 6, "24", "larger than 23"},
		{"TIME 12:60", 9, "60", "TIME minute value is larger than 59"},
		{"TIME 12:", 9, "", "TIME minute needs a time of day"},
		{"TIME 12x", 6, "12x", "TIME needs a time of day"},
		{"DAY 7", 5, "7", "DAY needs a weekday"},
		{"DAY S", 5, "S", "DAY needs a weekday"},
		{"DAY T", 5, "T", "DAY needs a weekday"},
		{"LEVEL 50.5", 9, ".5", "unexpected character"},
		{"LEVEL 50A", 9, "A", "unknown word"},
		{"*", 1, "*", "unexpected character"},
		{"NOT NOT SYSOP", 5, "NOT", "NOT written twice"},
		{"LEVEL == 5", 8, "=", "= written twice"},
		{"= SYSOP", 1, "=", "= cannot apply to SYSOP"},
		{"=(SYSOP)", 2, "(", "= cannot apply to ("},
		{"SYSOP NOT", 7, "NOT", "NOT must be followed by a term"},
		{"NOT OR SYSOP", 1, "NOT", "NOT must be followed by a term"},
		{"OR SYSOP", 1, "OR", "OR needs a term before it"},
		{"| SYSOP", 1, "|", "OR needs a term before it"},
		{"SYSOP AND", 7, "AND", "AND needs a term after it"},
		{"(SYSOP OR)", 8, "OR", "OR needs a term after it"},
		{"SYSOP AND OR GUEST", 11, "OR", "OR follows AND"},
		{"SYSOP & & GUEST", 9, "&", "AND follows AND"},
		{"SYSOP and or GUEST", 11, "or", "OR follows AND"},
		{"not or SYSOP", 1, "not", "not must be followed by a term"},
		{"()", 2, ")", "empty parentheses"},
		{"(SYSOP", 1, "(", "missing )"},
		{"((SYSOP)", 1, "(", "missing )"},
		{"SYSOP)", 6, ")", "unmatched )"},
		{"$", 1, "$", "$ needs a keyword letter"},
		{"$?5", 1, "$?", "unknown short form"},
		{strings.Repeat("(", 65) + "SYSOP" + strings.Repeat(")", 65), 65, "(", "nested deeper than 64"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			e, err := ars.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tc.in, e)
			}
			if !errors.Is(err, ars.ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			var se *ars.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Column != tc.column || se.Near != tc.near || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse(%q) error = column %d near %q: %s\nwant column %d near %q: ...%s...",
					tc.in, se.Column, se.Near, se.Msg, tc.column, tc.near, tc.msg)
			}
			if !strings.Contains(err.Error(), "column") {
				t.Errorf("error text %q does not name the column", err)
			}
			ok, cerr := ars.Check(tc.in, ars.Subject{Level: 99})
			if ok || cerr == nil {
				t.Errorf("Check(%q) = %v, %v; a broken string must deny with an error", tc.in, ok, cerr)
			}
		})
	}
}

package ars

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// SysopLevel is the security level from which a user counts as a sysop
// (the SYSOP keyword). Synchronet fixes it at 90; it is not configurable.
const SysopLevel = 90

// ErrSyntax is wrapped by every *SyntaxError, for errors.Is.
var ErrSyntax = errors.New("ars: syntax error")

// SyntaxError tells where a requirement string cannot be read.
type SyntaxError struct {
	Column int    // 1-based byte offset of the problem in the string
	Near   string // the text found there; empty at the end of the string
	Msg    string // what is wrong, in the sysop's words
}

func (e *SyntaxError) Error() string {
	if e.Near == "" {
		return fmt.Sprintf("ars: column %d: %s", e.Column, e.Msg)
	}
	return fmt.Sprintf("ars: column %d near %q: %s", e.Column, e.Near, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Subject is what a requirement is checked against: the user record as far
// as the mail server keeps it, and the client session. The zero Subject is
// Synchronet's "user 0": nobody has logged in, level 0, no flags.
type Subject struct {
	Number   uint32    // user number; 0 when nobody is authenticated
	Alias    string    // user name, for USER <name>
	Level    int       // security level, for LEVEL and SYSOP
	Flags    [4]string // letters A-Z held in flag sets 1-4 (FLAG1..FLAG4)
	Exempt   string    // exemption letters (EXEMPT)
	Restrict string    // restriction letters (REST); G makes a guest, Q a QWK node
	Deleted  bool
	Inactive bool
	Sex      string    // the letter the user record holds (M, F, ...); empty if unknown
	Birth    time.Time // birth date for AGE; the zero time means unknown (age 0)

	IP       netip.Addr // client address, for IP
	Host     string     // client host name from reverse DNS, for HOST
	Protocol string     // "SMTP", "SMTPS" (port 465 or after STARTTLS), "POP3" or "POP3S", for PROT
	SubCode  string     // internal code of the sub-board being posted to, for SUBCODE

	// Now is the moment of the check, for TIME, DAY and AGE, in the zone
	// whose clock the sysop means (normally time.Local). The zero time means
	// time.Now().
	Now time.Time
}

// Expr is a parsed requirement string. It is immutable and safe for
// concurrent use. The nil *Expr, like the one for an empty string, has no
// requirement: everyone passes.
type Expr struct {
	src         string
	root        node
	unsupported []string
	mixed       bool
}

// Parse reads a requirement string. An empty or blank string is valid and
// lets everyone pass. Errors are *SyntaxError and name the column.
func Parse(s string) (*Expr, error) {
	return parse(s)
}

// Check parses s and evaluates it for subject; a string that cannot be
// parsed denies access and returns the error.
func Check(s string, subject Subject) (bool, error) {
	e, err := Parse(s)
	if err != nil {
		return false, err
	}
	return e.Eval(subject), nil
}

// Eval reports whether subject meets the requirement. A term the mail server
// cannot evaluate (see Unsupported) counts as unknown, and access is granted
// only when the result is true whatever the unknown terms would be: "SYSOP OR
// ANSI" admits a sysop and nobody else, "NOT ANSI" admits nobody.
func (e *Expr) Eval(subject Subject) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.eval(newEnv(&subject)) == yes
}

// Unsupported lists, in order of first use, the keywords of the string that
// a mail server cannot evaluate (terminal, node and statistics keywords such
// as ANSI, COLS, NODE, CREDIT). Callers should warn about them at startup.
func (e *Expr) Unsupported() []string {
	if e == nil {
		return nil
	}
	return append([]string(nil), e.unsupported...)
}

// Warnings describes, one sentence each, what a sysop should know about a
// requirement that parsed: keywords a mail server cannot evaluate, and AND
// mixed with OR without parentheses, which Synchronet's documentation calls
// invalid and which is read with the grouping String shows. Callers log them
// at startup with the file and key.
func (e *Expr) Warnings() []string {
	if e == nil {
		return nil
	}
	var w []string
	for _, k := range e.unsupported {
		w = append(w, k+" cannot be evaluated by a mail server; terms using it count as unknown and never grant access")
	}
	if e.mixed {
		w = append(w, "AND and OR are mixed without parentheses; read as: "+e.String())
	}
	return w
}

// Empty reports whether the requirement lets everyone pass because it has
// no terms.
func (e *Expr) Empty() bool { return e == nil || e.root == nil }

// Source returns the string as it was given to Parse.
func (e *Expr) Source() string {
	if e == nil {
		return ""
	}
	return e.src
}

// String renders the requirement in a canonical form that makes its
// grouping visible (for "bbsmail check" and logs): full keywords, explicit
// AND, and parentheses wherever AND and OR meet, e.g. "LEVEL 60 AND FLAG1 X
// OR LEVEL 90" is shown as "LEVEL 60 AND (FLAG1 X OR LEVEL 90)". Parsing the
// result gives the same requirement. An empty requirement renders as "".
func (e *Expr) String() string {
	if e.Empty() {
		return ""
	}
	return string(e.root.render(nil))
}

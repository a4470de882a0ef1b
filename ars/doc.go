// Package ars reads and evaluates Synchronet Access Requirement Strings
// (ARS), the small boolean language a sysop uses to say who may do
// something: "LEVEL 50", "FLAG1 A AND NOT REST M", "SYSOP OR (LEVEL 60 AND
// EXEMPT W)", or the short forms "$L50 $FA". The mail server needs them for
// sbbs.ini [Mail] LoginRequirements and ArchiveRequirements, mailproc.ini
// AccessRequirements and the post_ars of a sub-board in msgs.ini.
//
// Parse turns a string into an *Expr once, when the configuration is
// loaded; Expr.Eval checks it against a Subject (the user record and the
// client session) as often as needed. The language is Synchronet's: full
// keywords, their '$' short forms, NOT/!, AND/&/juxtaposition, OR/|, =
// (EQUAL, EQUALS, EQUAL TO) and parentheses, case-insensitive, with the
// operators grouped the way Synchronet evaluates them (equal precedence,
// grouped to the right: "A AND B OR C" is A AND (B OR C)). Numeric keywords
// mean "at least" unless written with "=". docs/ars.md is the sysop's
// reference.
//
// Deliberately not done here:
//   - Keywords that need a terminal session, a node or user statistics
//     (ANSI, COLS, NODE, TLEFT, CREDIT, upload/download ratios, ...) are
//     parsed but cannot be evaluated by a mail server. They count as unknown
//     and access is granted only if the answer does not depend on them, so
//     they never let anyone in by accident; Expr.Unsupported lists them so
//     the caller can warn at startup.
//   - Where Synchronet silently drops what it cannot read (an unknown word,
//     a keyword without its value, a repeated NOT), Parse reports a
//     *SyntaxError with the column instead: a requirement that quietly
//     vanished would open a door the sysop meant to keep shut.
//   - No user records or configuration are read: the caller fills Subject.
//
// The package uses the standard library only. The only RFC notation it
// follows is for IP patterns, which may be addresses or CIDR networks
// (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6).
package ars

// Package pattern matches strings against Synchronet filter lists: the
// text/*.can files and the ctrl/*.cfg lists (spamblock, spambait, relay,
// dnsbl_exempt, ipfilter_exempt, twitlist, ...). It reproduces Synchronet's
// findstr rules:
//
//   - one pattern per line; leading spaces are skipped, C escapes decoded,
//     blank lines and lines starting with ';' ignored;
//   - "foo~" contains foo, "foo^" starts with foo, "a*b" starts with a and
//     ends with b (only the first '*' is a wildcard), anything else is an
//     exact match; all comparisons ignore case;
//   - "a.b.c.d/n" and "x::/n" match an IPv4 or IPv6 address of the same
//     family inside that network;
//   - "!" inverts a line; lines are tested top-down: a matching normal line
//     says yes, a matching '!' line says no, otherwise the last line tested
//     decides, so a file holding only "!x" matches everything but x;
//   - after a TAB come metadata fields (t= added, e= expires, p= protocol,
//     r= reason, u= user, h= host, q= quiet); an expired line never matches;
//   - a check with two strings (IP and host, name and address) matches a
//     line if either string does.
//
// File re-reads its list when the file's mtime or size changes (looked at
// at most once per RecheckInterval, at once after Append), and Append
// adds an entry with one O_APPEND write, for automatic spamblock and
// dnsbl_exempt entries.
//
// The package deliberately does no logging and knows nothing about which
// file is used for what: that policy belongs to smtpd, pop3d and route. It
// imports the standard library only, so those packages may depend on it.
// No RFC governs the format; CIDR notation follows RFC 4632 §3.1 and
// RFC 4291 §2.3.
package pattern

// Package ctrl loads a sysop's Synchronet control directory into an
// immutable, validated *Config: sbbs.ini ([Global] and [Mail]), main.ini,
// msgs.ini, alias.cfg, dns_blacklist.cfg and the filter lists (ctrl/*.cfg,
// text/*.can), plus the paths of the sibling data/, text/, temp/, exec/,
// mods/ and logs directories.
//
// Every [Mail] key is described once, in the key table of keys.go: its
// Synchronet code default and the [Global] key it falls back to. Load and
// Dump (the `bbsmail check` listing) both walk that table. Values follow
// Synchronet's rules: numbers, enums and option lists end at the first
// white space, strings are the whole trimmed value, a blank value means the
// default; sizes take K/M/G, durations s/m/h (a plain number is seconds, or
// milliseconds for LoginAttemptDelay and LoginAttemptThrottle). Unlike
// Synchronet, an unparsable value or unknown option flag stops startup with
// an *Error naming file, line and key, because a silently ignored typo in a
// mail server's configuration usually means an open relay or lost mail.
//
// Init writes a commented default tree (or a loopback demo on unprivileged
// ports) from embedded files for a first start.
//
// The package deliberately does not watch for reloads (the caller builds a
// new Config on SIGHUP), does not interpret alias.cfg or the ARS strings
// (route and the user store do), and does not create TLS keys. Only
// cmd/bbsmail imports it; protocol packages receive plain values. No RFC
// governs these files; the formats are Synchronet's (see docs/sbbs-ini.md,
// docs/main-ini.md, docs/msgs-ini.md, docs/lists.md, docs/patterns.md).
package ctrl

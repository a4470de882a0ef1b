// Package mailproc runs the sysop's external mail processors
// (ctrl/mailproc.ini) on each message received by SMTP, before it is
// stored, with the file contract of the Synchronet BBS mail server, so
// that processors written for Synchronet keep working:
//
//   - Load picks the first existing of mailproc.<fqdn>.ini,
//     mailproc.<host>.ini, mailproc.<platform>.ini, mailproc.local.ini and
//     mailproc.ini, and reads one processor per section (Command, Eval, To,
//     From, PassThru, Native, IgnoreOnError, Disabled, ProcessSPAM,
//     ProcessDNSBL, AccessRequirements).
//   - At RCPT time, MatchRcpt tells the resolver which processors' To
//     patterns a recipient matches, and whether a processor that consumes
//     the message (PassThru=false) captures it: a list server's address
//     needs no BBS user.
//   - At the end of DATA, Run writes the message (.msg) and recipient list
//     (.lst) to the temporary directory and runs the processors that apply,
//     in file order: native ones through /bin/sh with the %-specifiers
//     expanded, JavaScript ones in an embedded engine (goja) with the
//     globals and a documented subset of Synchronet's host objects. A
//     processor may replace the text (.new), edit the recipient list,
//     reject the message (.err) or log (.log). Run reports the text, the
//     recipients, and whether the message was consumed or rejected; the
//     files are always removed.
//
// docs/mailproc-ini.md is the sysop's reference, including where bbsmail
// deliberately differs from Synchronet: disabled processors capture no
// recipients; a message refused by every processor that captured its only
// recipients is answered 550 instead of vanishing; a rejection is always one
// well-formed multi-line reply; in native command lines, %-specifiers
// whose values come from the network expand to inert words (no character
// any shell, at any depth of nesting, reads as syntax) and the exact
// values go in MAILPROC_* environment variables, while the sysop's own
// values are shell-quoted; each processor sees the text the previous one
// wrote.
//
// Scripts get the Synchronet objects the stock processors use (user,
// client, server, system, File with its .ini methods, Socket, MsgBase and
// msg_area over the mailbase's sub-boards through the Boards interface,
// format, resolve_ip ...), so that Synchronet's mailauth.js, spamc.js and
// listserver.js run as shipped. A script's files are held to the BBS
// directories (less the server's own files), its sockets to loopback and
// the hosts the sysop named, its run to JavaScriptTimeLimit and its heap
// growth to JavaScriptMaxBytes. What MsgBase cannot map onto sub-boards
// fails the script with ErrUnsupported, which a consuming processor turns
// into a permanent 550.
//
// It deliberately does not: decide what the SMTP server answers or stores
// (the caller does, from Output); evaluate Synchronet access requirements
// (the caller may supply an evaluator, else restricted processors never
// run); provide Synchronet's full JavaScript object model (no User, bbs or
// console objects: a script using them fails and is logged); or sandbox
// native processors, which are the sysop's own programs and run with the
// server's rights.
//
// The replies built from a processing error file follow RFC 5321 §4.2.1
// (multi-line replies, one code) and §4.5.3.1.5 (reply line length), with
// RFC 3463 enhanced status codes as RFC 2034 asks of a server that offers
// ENHANCEDSTATUSCODES. No RFC governs the processor contract itself.
package mailproc

// Package pop3d is the POP3 server of bbsmail: BBS users fetch the mail in
// their BBS inbox with an ordinary mail client, on port 110 (plain, with
// STLS) or port 995 (implicit TLS).
//
// It follows RFC 1939 (POP3), RFC 2449 (CAPA, response codes, the 255-octet
// command line limit, PIPELINING), RFC 2595 §4 (STLS) and RFC 3206
// (the AUTH and SYS response codes):
//
//   - AUTHORIZATION (RFC 1939 §4): CAPA, STLS, USER/PASS, APOP, QUIT. A
//     failed login is answered after a delay with "-ERR [AUTH]" and the
//     connection is closed; after five other commands without a login the
//     connection is closed too. "name#nospam" logs in as name and hides mail
//     flagged as spam for the session. Only one session may hold a mailbox
//     at a time; a second login gets "-ERR [IN-USE]" (RFC 2449 §8.1.2).
//   - TRANSACTION (RFC 1939 §5): the message list is a snapshot taken at
//     login. STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP. Messages marked
//     with DELE vanish from counts and listings until RSET. Sizes are the
//     octets RETR sends before dot-stuffing; the unique-id is the
//     mailbase's message number in decimal, which is never reused.
//   - UPDATE (RFC 1939 §6): at QUIT the marked messages, plus retrieved
//     kill-read mail (and retrieved spam under KILL_READ_SPAM), are deleted
//     in one Mailbox.Delete call. A connection that ends without QUIT
//     deletes nothing. Messages sent completely by RETR are marked read
//     unless NO_READ_POP3.
//
// Where Synchronet's POP3 server departs from RFC 1939 (DELE acting at
// once, STAT not reduced by DELE, sizes that are not octet counts) this
// package follows the RFC instead.
//
// Before the greeting (guard.go, over netutil.Screen, which the SMTP server
// shares, so both check in one order), in Synchronet's order: the client's host
// name (forward-confirmed reverse DNS, unless NO_HOST_LOOKUP),
// text/ip-silent.can (close without a reply), a temporary ban from the
// failed-login tracker, text/ip.can and text/host.can ("-ERR Access
// denied." and close), then the throttle delay for clients with failed
// logins. ipfilter_exempt.cfg clients skip all of it; loopback clients skip
// the lists; the server's own address is never banned or throttled. Every
// failed login is reported to the tracker (Deps.Guard), which is shared
// with the SMTP server and keeps the counts, hack.log and automatic ip.can
// entries; a successful login with a password clears the address. The
// password checks of one address run one at a time (LoginGuard.Checking),
// each after the failure before it is reported, and the ban is asked
// before and after each. With Config.DisablePlaintextAuth, USER/PASS and
// APOP need TLS except from the server's own address. MaxClients and
// MaxConnsPerIP are counted in Deps.Conns, which the wiring shares with
// the SMTP server; the listeners and sessions are kept in a
// netutil.Tracker, as in the SMTP server. In the
// TRANSACTION state each command counts toward the rate limit
// (Deps.RateLimit); over it the client gets "-ERR [SYS/TEMP]" and is
// disconnected.
//
// Deliberately not here: SASL AUTH (RFC 5034), the LOGIN-DELAY and EXPIRE
// capabilities; the failed-login counts themselves, which live in the
// caller's tracker so that they span protocols and sessions; the mailbase
// itself, reached only through the Mailbox and Authenticator interfaces in
// deps.go. Message bodies are read one at a time, never the whole mailbox,
// and at every RETR or TOP (nothing is cached): into a buffer the session
// reuses, from which the whole response (status line, stuffed text,
// terminating dot) is built in a second one and written at once.
package pop3d

// Package smtpd is the bbsmail SMTP server for ports 25 (MTA), 587
// (submission) and 465 (submission over implicit TLS).
//
// It speaks ESMTP on net/textproto-style line handling of its own: HELO and
// EHLO (RFC 5321 §4.1.1.1), MAIL, RCPT and DATA (§4.1.1.2-4), RSET, NOOP,
// QUIT, VRFY (252), HELP, the old SEND, SOML and SAML commands (RFC 821
// §4.1.1) that deliver BBS telegrams, SIZE (RFC 1870), PIPELINING (RFC
// 2920), 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034, codes from RFC
// 3463), STARTTLS (RFC 3207), implicit TLS (RFC 8314 §3.3) and AUTH (RFC
// 4954) with PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195). Line limits
// are those of RFC 5321 §4.5.3.1; dot-stuffing follows §4.5.2; each stored
// copy gets Return-Path and Received trace fields (§4.4). Bare CRs and LFs
// in message text become CR LF line ends (§2.3.8, RFC 5322 §2.3), and a
// lone dot beside one refuses the message (SMTP smuggling), data.go.
//
// Message text is held once, in a buffer that never copies itself as it
// grows, under a byte budget shared by all sessions (Config.MaxDataInFlight;
// textbuf.go): a DATA that finds no room gets 452 4.3.1 (RFC 3463 §3.4),
// and text over a limit is dropped as it streams. The text handed to
// Maildrop, Processors and SpamHashes is valid only during their call.
//
// One receive pipeline, in a fixed order, is laid out in pipeline.go:
// accept limits, reverse DNS, connection checks, greeting, HELO/AUTH,
// MAIL, RCPT (recipient resolution and the relay rule), DATA, Deliver,
// and the 250 reply only after Deliver returned nil. Every command
// handler returns its reply and session.command sends it; the server's
// own replies are named in replies.go, and recipient refusals (unknown
// user, relay, the telegram rules) are the Resolver's, sent as they come.
// Every error becomes a reply in one place (session.replyFor): an
// *envelope.Reply as it is, anything else as "451 4.3.0 Local error
// (<id>)" with the cause in the log only.
//
// What it deliberately does not do: it never imports the mailbase, the
// configuration loader or the other protocol servers. Users, recipients,
// storage and telegrams come through the small interfaces in deps.go, and
// settings through the plain Config struct. It does not resolve recipient
// addresses itself (the Resolver does), store anything, or send mail on.
// CHUNKING/BDAT, DSN, SMTPUTF8, VRFY and EXPN results are not offered.
//
// Synchronet's static filter lists are applied (filters.go): ip-silent.can,
// the temporary ban, spamblock.cfg with spamblock_exempt.cfg, ip.can and
// host.can before the greeting, in the order netutil.Screen keeps for the
// POP3 server too (ipfilter_exempt.cfg clients skip them, loopback clients
// the three .can lists; the ban and spamblock.cfg spare only the server's
// own address);
// email.can on MAIL, RCPT and the From and To headers, subject.can (RFC
// 2047 encoded words decoded, RFC 5322 §2.2.3 unfolding) and twitlist.cfg
// after DATA. The lists themselves are Matchers given in Config; this
// package does not read or re-read them, and writes only the automatic
// spamblock.cfg entries of spam bait (and spam.log and smtpspy.txt).
//
// DNS blacklists (dnsbl.go) are policy only: the lookup is Config.DNSBL (the
// wiring adapts package dnsbl, RFC 5782). A listed client is refused before
// the greeting (DNSBL_REFUSE), refused at RCPT (DNSBL_BADUSER), has its
// message silently dropped (DNSBL_IGNORE), or has it tagged with a header,
// a Subject prefix and the spam flag. dnsbl_exempt.cfg exempts clients and
// senders; authenticated sessions are never affected. DNSBL_THROTTLE
// delays every line a listed client sends, DNSBL_SPAMHASH records its
// message bodies as spam, and DNSBL_CHKRECVHDRS looks up the servers a
// message's Received fields (RFC 5321 §4.4) name (recvhdrs.go).
//
// Spam bait (spam.go): a RCPT to a spambait.cfg address is accepted and
// dropped, the client is added to spamblock.cfg (spamblock.go, written by
// rename so readers never see half a file) and the message body goes to
// the spam hash database, Deps.SpamHash; a body found there is accepted
// with 250 and dropped. smtpspy.can (spy.go) logs a session's dialogue,
// never its AUTH data.
//
// Failed logins and rate limits (guard.go) are kept by the process-wide
// tracker in Deps.Guard and Deps.RateLimit, shared with POP3: a
// temporarily banned client is closed before the greeting without a reply,
// a client with failed logins waits (the throttle, cut short by Shutdown)
// before it, every failed AUTH is reported and a successful one clears the
// address, and each command line (not message text, not AUTH exchange
// lines) counts toward MaxRequestsPerPeriod: over it, 421 and disconnect.
// The server's own address (a client whose IP is the connection's local
// address) is never banned or throttled but is rate-limited; clients in
// ipfilter_exempt.cfg escape all three. The password checks of one address
// run one at a time (LoginGuard.Checking), each after the failure before it
// is reported, with the ban asked before and after each. MaxClients and
// MaxConnsPerIP are counted in Deps.Conns, shared with POP3.
//
// Sender checks (senders.go): after AUTH, on every port, the reverse path
// and every From and Sender header address must be the user's own
// (Resolver.OwnsSender, RFC 6409 §6.1); for every client, a From display
// name that is another address of this system is refused as a forgery.
//
// Mail processors (ctrl/mailproc.ini) run through Deps.Processors after the
// header checks and before the trace headers (mailproc.go): a processor may
// reject the message with its own reply lines, take it (250, nothing
// stored), or rewrite its text and recipient list.
package smtpd

// Package route resolves recipients: it turns the argument of RCPT TO (or
// of a SEND, SOML or SAML recipient) into an envelope.Rcpt, or refuses it
// with an *envelope.Reply, following the Synchronet BBS mail server's rules
// so that a BBS moving to bbsmail keeps every address it has given out.
//
// The forms are tried in a fixed order (docs/addressing.md has each with an
// example): the forward: and local: prefixes; alias.cfg on the whole
// address; the relay decision for addresses with a domain (FidoNet
// name@fF.nN.zZ.fidonet, a local domain, or a remote one that the session
// may relay to); route!user through a QWKnet hub; alias.cfg on the local
// part; the mail processors' To patterns (a processor that consumes the
// message captures the recipient, as a list server's address needs no
// user); sub:<code> posts; then the user lookup: a number from alias.cfg,
// sysop aliases, the alias ignoring punctuation, the sysop's name, the real
// name, the user number; name#tag against data/user/NNNN.smtpblock;
// DefaultUser; and finally the mailbox checks and netmail forwarding.
//
// Two rules keep resolution from being a relay for strangers, deliberately
// stricter than Synchronet: only an alias.cfg value the sysop wrote out in
// full is relayed regardless of the session (a '*' value carries client
// text and gets the relay decision like a typed address), and a mailbox
// with a second '@' outside quotes is refused. A remote destination that
// did not come from such a value must be a public unicast address or a
// host name, not this machine, on port 25 (dest.go), because SendMail
// connects wherever the domain points.
//
// Resolution is policy only. It reads the configuration it is given as
// plain values (Config) and the user base through the Directory interface,
// so it can be table-tested without a server and shared by smtpd and the
// command line. It does not import ctrl, store or smtpd.
//
// It deliberately does not: parse the control files (package ctrl does);
// run the anti-spam steps that Synchronet interleaves with resolution
// (spam bait, email.can, DNSBL_BADUSER, smtpspy.can run in smtpd on
// Parse(arg).Addr before Resolve);
// enforce MaxRecipients or daily limits (smtpd); look anything up in the
// DNS (.fidonet in particular is a virtual domain and never resolved);
// or write anything.
//
// RFC 5321 §3.6.2 and §4.1.1.3 (relaying and RCPT), RFC 6409 §6.1 (message
// submission: a sender address must belong to the authenticated user) and
// RFC 3463 (enhanced status codes in the refusals) are followed. Like
// Synchronet, local-part matching is more forgiving than RFC 5321 §2.4
// requires: case and punctuation are ignored when matching user names.
package route

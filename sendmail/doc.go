// Package sendmail delivers the outbound SMTP queue: the BBS's SendMail
// thread. A Sender claims due entries from the mailbase's queue in
// batches, groups recipients that share a destination, a reverse path and
// the message into one transaction, and delivers them directly to the
// domain's mail exchangers or through a relay (RelayTx), authenticating
// with PLAIN, LOGIN or CRAM-MD5. A connection whose transaction was
// accepted carries the next transactions for the same destination (RSET,
// then the next MAIL; at most 100 per connection). Each recipient's outcome
// is told back to the queue: delivered (recorded in groups, one commit for
// many deliveries), deferred with backoff (1m, 5m, 15m, 30m, 1h, then
// RescanFrequency), or failed after a delivery-failure notice to the sender
// through the Maildrop. Delivered-to addresses are appended to
// dnsbl_exempt.cfg in Synchronet's format.
//
// The SMTP client is our own, on net/textproto, because the libraries at
// hand cannot do opportunistic STARTTLS with our EHLO name on one
// connection, pipelining, and per-recipient replies together. MX lookups
// use miekg/dns against the configured server (UDP with EDNS0, TCP on
// truncation or USE_TCP_DNS). The addresses a zone gives are checked
// before connecting (unroutable.go): a zone is anyone's to write, so none
// may send SendMail to loopback, link-local, multicast, reserved or this
// machine's own addresses (nor private ones, with RefusePrivate); the
// sysop's RelayServer and address routes are not checked.
//
// It deliberately does not: render BBS messages into RFC 5322 (the queue
// holds the finished message), sign with DKIM, verify certificates of MX
// hosts (opportunistic TLS, RFC 7435; no MTA-STS or DANE), keep idle
// connections open between bursts, or send DSN parameters. It never
// imports store, ctrl, smtpd or pop3d: the wiring supplies the Queue and
// Maildrop.
//
// Standards followed: RFC 5321 §3.3 and §4.1 (the dialogue; RSET before a
// further transaction on one connection, §4.1.1.5), §4.5.2 (transparency),
// §4.5.3.2 (timeouts), §2.3.8 (only CR LF ends a line on the wire,
// whatever line ends the stored text holds), §4.4 (the stored Return-Path
// is not passed on), §5.1 (MX selection, implicit MX), §6.1 (a possible
// duplicate rather than a loss when a connection breaks after the data);
// RFC 7505 (null MX); RFC 2920 (pipelining); RFC 3207 (STARTTLS); RFC 4954
// with RFC 4616 (PLAIN) and RFC 2195 (CRAM-MD5); RFC 1870 (SIZE); RFC 6152
// (8BITMIME); RFC 3464 and RFC 6522 (delivery status notifications); RFC
// 3834 (Auto-Submitted).
package sendmail

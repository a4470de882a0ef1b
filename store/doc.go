// Package store is the mailbase: one bbolt file holding the BBS users, the
// users' mailboxes, posts made to sub-boards by mail, FidoNet and QWK
// netmail waiting for export, the outbound SMTP queue, telegrams and the
// spam hash database (hashes of message bodies known to be spam). It is
// the only package that imports bbolt; the servers reach it through small
// interfaces of their own that the wiring in cmd/bbsmail satisfies with a
// *DB.
//
// The promise the SMTP server builds on is Deliver's: it stores one
// accepted message for all of its recipients in one transaction and
// returns only after bbolt has committed it with fsync, so a 250 reply
// is never given for mail a crash could lose. Concurrent deliveries share
// commits (group commit, groupcommit.go; Options.OnCommit hears each
// commit's batch size). The message text is kept once, with a reference
// count, however many local users, sub-boards, netmail destinations and
// remote recipients it goes to; each copy carries
// its own trace header block (Return-Path and Received) that is served in
// front of the text. When the file cannot grow (a full disk, a quota, the
// file size limit), the failed write stores nothing and its error wraps
// ENOSPC, EDQUOT or EFBIG; from then on deliveries leave a reserve of
// free pages for deleting mail, until the file can grow again (room.go).
//
// Mailbox message ids come from a per-mailbox sequence that never goes
// back, so they serve as POP3 unique ids (RFC 1939 §7, UIDL) that are
// stable across sessions and never reused. Sizes are the exact octets
// served, as RFC 1939 §5 LIST requires. Queue entries follow the retry
// model of RFC 5321 §4.5.4.1: one entry per recipient, with an attempt
// count, the last error and the next attempt time; the in-transit flag
// keeps two runners from delivering the same entry. An index ordered by the
// next attempt time lets the scheduler claim due entries and learn when the
// next one is due without reading the whole queue.
//
// Netmail leaves through package ftn's exporter, which marks the entries
// it packed (PackNetmail) before it puts the packet in the outbound and
// removes them (NetmailExported) after, so a crash between the two loses
// and duplicates nothing. NetmailExported keeps the header fields and the
// packet name of each (NetmailSent) until NetmailSentCheck has seen the
// packet leave the outbound and the record has aged out. Imported netmail
// is stored with DeliverOnce,
// which records the message's key in the same transaction.
//
// Passwords are never stored in the clear: an argon2id verifier (RFC 9106)
// checks PLAIN, LOGIN and USER/PASS logins, and a copy sealed with
// AES-256-GCM under the key in ctrl/secret.key serves the challenge-response
// mechanisms that need the secret itself (APOP, RFC 1939 §7; CRAM-MD5,
// RFC 2195). As in Synchronet, password checks ignore case.
//
// The package deliberately does not decide anything about mail: recipient
// resolution, relay rules, quotas (it only counts, see MessageCount),
// Kill-Read-Mail and bounces belong to the callers. It does not parse
// messages beyond the few header fields shown in listings, never changes
// the stored text, and does not export netmail or QWK packets. The file
// layout and durability rules are described in docs/mailbase.md.
package store

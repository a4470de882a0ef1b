// Package ftn carries netmail between the mailbase and FidoNet: it writes
// the netmail the SMTP server accepted for fidonet addresses into packets
// in a BinkleyTerm-Style Outbound, where a mailer such as binkd picks them
// up, and it tosses the netmail a mailer left in the inbound into the
// users' mailboxes.
//
// Formats: packets are Type-2+ (FTS-0001 §2.1 with the capability word of
// FSC-0039 and the point fields of FSC-0048; plain Type-2 headers are read
// too), messages are FTS-0001 packed messages, the control lines are the
// kludges of FTS-4000 (INTL, FMPT and TOPT of FTS-4001, MSGID and REPLY of
// FTS-0009, TZUTC of FTS-4008, CHRS of FTS-5003, Via of FTS-4009) and the
// gateway lines REPLYADDR and REPLYTO of FSC-0035. The outbound layout is
// the BSO one every modern mailer reads: OUTBOUND[.ZZZ]/NNNNnnnn.?ut, with
// NNNNnnnn.pnt/0000pppp.?ut for points, .bsy files as locks, and the
// flavours normal (o), crash (c), hold (h) and direct (d).
//
// Exactly once: an export writes the whole new packet to a temporary file,
// has the mailbase mark the netmail packed into it, renames it over the
// packet and only then removes the netmail; Recover finishes or undoes a
// run a crash cut short (see Config.Export). An inbound packet is removed
// only after each of its messages is committed, and a message seen before
// (same MSGID, or the same content when it has none) is not stored twice.
//
// The packet parser reads files from other systems: it trusts no length,
// bounds every field and is fuzzed (FuzzDecode).
//
// ZIP mail bundles (NNNNnnnn.mo0 ... su9) in the inbound are unpacked
// before the scan; other archive formats are left alone.
//
// Deliberately not here: echomail (a packet with echomail in it is left
// for the echomail tosser), netmail in transit to other nodes, file
// attaches, non-ZIP bundles, nodelists and the mailer itself (binkd). The package does not read the configuration: cmd/bbsmail
// builds a Config, and the mailbase is reached through Spool and
// Mailboxes (deps.go).
package ftn

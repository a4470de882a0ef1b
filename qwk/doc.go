// Package qwk carries netmail between the mailbase and a QWK network hub:
// it writes the netmail routed to a hub into the hub's REP packet and reads
// the private mail of the hub's QWK packets.
//
// Format: the QWK message format as Synchronet writes and reads it
// (msgtoqwk.cpp, qwktomsg.cpp): a file of 128-byte blocks, the first one a
// packet header, then per message a header block (status, conference
// number in a REP or message number in a QWK, MM-DD-YYHH:MM, To, From,
// Subject in 25 columns, reference, block count, the active flag 0xE1, the
// conference as a 16-bit number, the network tag flag) and the text with
// lines ending in 0xE3, padded with spaces. Netmail is conference 0. Long
// To, From and Subject fields travel as "To:", "From:", "Subject:" lines
// at the top of the text (QWKE), routing as "@VIA:", and for a destination
// beyond the hub the To field is NETMAIL with "name@route" on the first
// line. HEADERS.DAT (Synchronet's per-message ini sections keyed by the
// hex offset of the header block) carries the full fields and
// Message-IDs; it is written and, when present, read.
//
// Packets: the REP is HUBID.MSG and HEADERS.DAT in a ZIP archive
// (archive/zip, no external packer), HUBID.rep in the packet directory
// (data/qnet by default; Synchronet keeps data/HUBID.REP, and a REP of
// any case already waiting is added to). Inbound packets are HUBID.Q??
// (ZIP, MESSAGES.DAT inside) in the packet directory and in data/, where
// Synchronet's call-out scripts leave them.
//
// Exactly once: as in package ftn, the new REP is written to a temporary
// file, the netmail marked packed, the file renamed, the netmail removed;
// a QWK packet is removed only after its messages are stored, each once.
//
// The parsers read files from other systems and are fuzzed. Deliberately
// not here: public conferences (a QWK packet holding public messages is
// left for the BBS's own QWK networking), voting, file attachments, and
// the transfer (the hub's call command: FTP or QWKnet over the BBS).
package qwk

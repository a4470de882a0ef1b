// Package dnsbl looks client addresses up in DNS blacklists (RFC 5782).
//
// A Resolver asks one name server for the A record of the reversed address
// under each list's zone: d.c.b.a.<zone> for IPv4 (§2.1) and the 32
// reversed nibbles for IPv6 (§2.4). Zones are tried in the order given and
// the first listing stops the search. Only an answer of 127.0.0.x counts as
// a listing (§2.3); 127.255.255.x, which Spamhaus and others return for
// refused or over-quota queries, and any other answer are reported as errors
// and treated as "not listed", so a misbehaving list cannot refuse all mail.
// On a listing the TXT record of the same name gives the reason (§2.1).
//
// The package is pure lookup: it does not read dns_blacklist.cfg or
// dnsbl_exempt.cfg, decide what a listing means for a session (refuse, tag,
// drop), cache answers, or check Received headers. Those belong to the
// configuration loader and the SMTP server. A Resolver's Observer, when
// set, hears of each list's query, its result and its time (for metrics).
package dnsbl

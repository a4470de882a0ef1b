// Package mailauth signs outbound mail with DKIM and judges the SPF, DKIM
// and DMARC of inbound mail.
//
// Signing (sign.go) follows RFC 6376: relaxed/relaxed canonicalization
// (§3.4.2, §3.4.4), rsa-sha256 (§3.3.1) or ed25519-sha256 (RFC 8463), over
// a fixed list of header fields with From signed once more than it occurs
// (§5.4.2), so that a From added later breaks the signature. A Signer
// signs only mail whose single From address is in one of the system's
// domains, with that domain's own key when it has one and the default key
// otherwise. Keys are PEM files, PKCS#8 or PKCS#1, RSA of at least 2048
// bits (RFC 8301 §3.2) or Ed25519; GenerateKey makes them and TXTRecord
// and ZoneLine write the record to publish (§3.6.1, split into 255-octet
// strings as RFC 1035 §3.3.14 requires).
//
// Checking (verify.go, dmarc.go) judges a message from an unauthenticated
// client: SPF (RFC 7208) for the MAIL FROM domain, or postmaster@<HELO>
// for the null path (§2.4); every DKIM signature, up to five (RFC 6376
// §6); DMARC (RFC 7489 §6.6) for the single From domain, with the
// organizational domain's record as fallback (§6.6.3, the public suffix
// list giving organizational domains, §3.2) and relaxed or strict
// alignment (§3.1). Lookups go through a Resolver the caller gives (the
// server's DNSServer), bounded by one timeout per message; a lookup that
// fails is a temperror result, never an error. Field formats the verdict
// as an Authentication-Results header field (RFC 8601 §2.2), and
// StripForged removes fields that claim our authserv-id (§5). Rules
// (policy.go) turn a verdict into accept, tag or refuse, acting only on a
// definite fail: DMARC p=reject or p=quarantine, SPF -all.
//
// What it deliberately does not do: it reads no configuration (the wiring
// passes keys and plain values), stores nothing and decides nothing about
// where a signature goes in the message: Sign returns the header field and
// the caller puts it in front of the copies that leave the system. Nor
// does it send DMARC reports, apply pct=, check ARC, or cache lookups.
package mailauth

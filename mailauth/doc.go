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
// What it deliberately does not do: it reads no configuration (the wiring
// passes keys and plain values), stores nothing and decides nothing about
// where a signature goes in the message: Sign returns the header field and
// the caller puts it in front of the copies that leave the system.
package mailauth

package mailauth

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// MinRSABits is the smallest RSA key accepted for signing: RFC 8301 §3.2
// makes verifiers refuse keys under 1024 bits, and the large providers
// expect 2048.
const MinRSABits = 2048

// signedFields are the header fields a signature covers, in the order
// they are hashed. From is listed twice: the second, empty instance
// (RFC 6376 §5.4.2) means that a From field added after signing breaks
// the signature, so a second From cannot be slipped in above ours.
var signedFields = []string{
	"From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding",
}

// Key is one signing key: the d= domain and s= selector it signs as.
type Key struct {
	Domain   string
	Selector string
	Signer   crypto.Signer
}

// ErrWeakKey is an RSA key shorter than MinRSABits.
var ErrWeakKey = errors.New("RSA key shorter than 2048 bits")

// LoadKey reads a PEM private key: PKCS#8 ("PRIVATE KEY") holding RSA or
// Ed25519, or PKCS#1 ("RSA PRIVATE KEY").
func LoadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseKey is LoadKey for a key already read.
func ParseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%d bits: %w", k.N.BitLen(), ErrWeakKey)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported key type %T (RSA or Ed25519 only)", key)
}

// Signer signs outbound mail whose From domain is one of the system's.
// It is safe for concurrent use.
type Signer struct {
	def    Key
	byDom  map[string]Key // lower-case From domain → its own key
	isOurs func(domain string) bool
}

// NewSigner returns a Signer that signs with def, or with the key in
// perDomain whose Domain is the From domain. isOurs reports whether a From
// domain belongs to this system; mail from other domains (relayed or
// forwarded mail) is left unsigned, since our signature would claim it.
func NewSigner(def Key, perDomain []Key, isOurs func(domain string) bool) *Signer {
	s := &Signer{def: def, byDom: map[string]Key{}, isOurs: isOurs}
	for _, k := range perDomain {
		s.byDom[strings.ToLower(k.Domain)] = k
	}
	return s
}

// Sign returns the DKIM-Signature field (with its CRLF) to put in front of
// msg, or nil when msg is not ours to sign. msg is the whole message with
// CRLF line ends.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	dom := FromDomain(msg)
	if dom == "" {
		return nil, nil
	}
	key, ok := s.byDom[dom]
	if !ok {
		if s.isOurs == nil || !s.isOurs(dom) {
			return nil, nil
		}
		key = s.def
	}
	return SignWith(key, msg)
}

// SignWith signs msg with key, relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4),
// over the signedFields present in msg and From once more.
func SignWith(key Key, msg []byte) ([]byte, error) {
	opts := &dkim.SignOptions{
		Domain: key.Domain, Selector: key.Selector, Signer: key.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             headerKeys(msg),
	}
	sg, err := dkim.NewSigner(opts)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if _, err := sg.Write(msg); err != nil {
		sg.Close()
		return nil, fmt.Errorf("dkim: %w", err)
	}
	if err := sg.Close(); err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	return []byte(sg.Signature()), nil
}

// headerKeys lists each signed field as often as msg has it, so that
// every instance is covered (§5.4.2 picks them bottom up), then From once
// more.
func headerKeys(msg []byte) []string {
	count := map[string]int{}
	eachField(msg, func(name, _ []byte) {
		count[strings.ToLower(string(name))]++
	})
	var keys []string
	for _, f := range signedFields {
		for range count[strings.ToLower(f)] {
			keys = append(keys, f)
		}
	}
	return append(keys, "From")
}

// FromDomain is the lower-case domain of the single From address of msg,
// or "" when there is none, several, or it does not parse.
func FromDomain(msg []byte) string {
	var from []byte
	n := 0
	eachField(msg, func(name, value []byte) {
		if strings.EqualFold(string(name), "From") {
			from = value
			n++
		}
	})
	if n != 1 {
		return ""
	}
	list, err := mail.ParseAddressList(string(from))
	if err != nil || len(list) != 1 {
		return ""
	}
	at := strings.LastIndexByte(list[0].Address, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(list[0].Address[at+1:], "."))
}

// eachField calls fn with the name and unfolded value of every header
// field of msg, in order.
func eachField(msg []byte, fn func(name, value []byte)) {
	var name, value []byte
	flush := func() {
		if name != nil {
			fn(bytes.TrimSpace(name), bytes.TrimSpace(value))
		}
	}
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		text := bytes.TrimRight(line, "\r\n")
		if len(text) == 0 {
			break
		}
		if text[0] == ' ' || text[0] == '\t' {
			if name != nil {
				value = append(value, text...)
			}
			continue
		}
		flush()
		n, v, ok := bytes.Cut(text, []byte(":"))
		if !ok {
			name = nil
			break
		}
		name, value = n, append([]byte(nil), v...)
	}
	flush()
}

// TXTRecord is the value of the selector._domainkey TXT record that
// publishes pub (RFC 6376 §3.6.1).
func TXTRecord(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		// RFC 8463 §4.2: the raw 32-octet key, not a SubjectPublicKeyInfo.
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("unsupported key type %T", pub)
}

// ZoneLine is the TXT record as a zone-file line for name, split into
// strings of at most 255 octets (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2
// joins them again).
func ZoneLine(name, value string) string {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, value[:255])
		value = value[255:]
	}
	parts = append(parts, value)
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = `"` + p + `"`
	}
	if len(quoted) == 1 {
		return fmt.Sprintf("%s. IN TXT %s", strings.TrimSuffix(name, "."), quoted[0])
	}
	return fmt.Sprintf("%s. IN TXT ( %s )", strings.TrimSuffix(name, "."), strings.Join(quoted, " "))
}

// RecordName is where the key of selector for domain is published.
func RecordName(selector, domain string) string {
	return selector + "._domainkey." + strings.TrimSuffix(domain, ".")
}

// PublishedKey extracts the public key of a DKIM TXT record value, as
// TXTRecord would have written it, so a published record can be compared
// with the key on disk. An empty p= (a revoked key) is an error.
func PublishedKey(record string) (string, error) {
	var k, p string
	for tag := range strings.SplitSeq(record, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(tag), "=")
		val = strings.Join(strings.Fields(val), "")
		switch strings.TrimSpace(name) {
		case "k":
			k = val
		case "p":
			p = val
		}
	}
	if p == "" {
		return "", errors.New("record has no key (p= is empty or missing)")
	}
	if k == "" {
		k = "rsa"
	}
	return k + ":" + p, nil
}

// KeyID is the form PublishedKey returns, for the key pub.
func KeyID(pub crypto.PublicKey) (string, error) {
	rec, err := TXTRecord(pub)
	if err != nil {
		return "", err
	}
	return PublishedKey(rec)
}

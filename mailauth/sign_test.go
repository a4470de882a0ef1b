package mailauth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

const testMsg = "From: Alice <alice@bbs.test>\r\nTo: bob@remote.test\r\nSubject: hi\r\n" +
	"X-Unsigned: 1\r\n\r\nBody line.  \r\n\r\n"

func TestParseKey(t *testing.T) {
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	cases := []struct {
		name string
		pem  []byte
		want string // "" = accepted, else part of the error
	}{
		{"PKCS#1 RSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsa2048)}), ""},
		{"PKCS#8 RSA", pkcs8(rsa2048), ""},
		{"PKCS#8 Ed25519", pkcs8(ed), ""},
		{"RSA 1024", pkcs8(rsa1024), "shorter than 2048"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "not a private key"},
		{"not PEM", []byte("hello"), "no PEM block"},
	}
	for _, c := range cases {
		_, err := ParseKey(c.pem)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestFromDomain(t *testing.T) {
	cases := map[string]string{
		"From: Alice <Alice@BBS.Test>\r\n\r\n":            "bbs.test",
		"From: a@x.test\r\nFrom: b@y.test\r\n\r\n":        "", // two From fields
		"From: a@x.test, b@y.test\r\n\r\n":                "", // two authors
		"Subject: x\r\n\r\nFrom: a@x.test\r\n":            "", // in the body
		"From:\r\n =?utf-8?q?A?= <a@folded.test>\r\n\r\n": "folded.test",
		"From: nobody\r\n\r\n":                            "",
	}
	for msg, want := range cases {
		if got := FromDomain([]byte(msg)); got != want {
			t.Errorf("FromDomain(%q) = %q, want %q", msg, got, want)
		}
	}
}

// verifyWith checks msg (signature field in front) against the public key
// of k with go-msgauth's verifier.
func verifyWith(t *testing.T, k Key, signed []byte) error {
	t.Helper()
	rec, err := TXTRecord(k.Signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	v, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != RecordName(k.Selector, k.Domain) {
				return nil, errors.New("unexpected lookup " + name)
			}
			return []string{rec}, nil
		}})
	if err != nil {
		return err
	}
	if len(v) != 1 {
		t.Fatalf("%d verifications", len(v))
	}
	return v[0].Err
}

// The signer signs mail from our domains only, with the domain's own key
// when it has one, over the fixed field list with From oversigned.
func TestSigner(t *testing.T) {
	key := func(dom string) Key {
		s, _, err := GenerateKey("ed25519", 0)
		if err != nil {
			t.Fatal(err)
		}
		return Key{Domain: dom, Selector: "mail", Signer: s}
	}
	def, alias := key("bbs.test"), key("alias.test")
	ours := func(d string) bool { return d == "bbs.test" || d == "other.test" || d == "alias.test" }
	s := NewSigner(def, []Key{alias}, ours)
	cases := []struct {
		from string
		key  *Key // nil = not signed
	}{
		{"alice@bbs.test", &def},
		{"bob@other.test", &def},
		{"carol@alias.test", &alias},
		{"mallory@remote.test", nil},
	}
	for _, c := range cases {
		msg := strings.Replace(testMsg, "alice@bbs.test", c.from, 1)
		field, err := s.Sign([]byte(msg))
		if err != nil {
			t.Fatalf("%s: %v", c.from, err)
		}
		if c.key == nil {
			if field != nil {
				t.Errorf("%s: signed, want unsigned", c.from)
			}
			continue
		}
		f := string(field)
		if !strings.Contains(f, "d="+c.key.Domain+";") || !strings.Contains(f, "c=relaxed/relaxed") ||
			!strings.Contains(f, "h=From:To:Subject:From;") || !strings.HasSuffix(f, "\r\n") {
			t.Errorf("%s: field %q: want d=%s, relaxed/relaxed, h=From:To:Subject:From", c.from, f, c.key.Domain)
		}
		signed := append(field, msg...)
		if err := verifyWith(t, *c.key, signed); err != nil {
			t.Errorf("%s: does not verify: %v", c.from, err)
		}
		// A second From added above ours breaks the signature.
		if err := verifyWith(t, *c.key, append([]byte("From: ceo@bbs.test\r\n"), signed...)); err == nil {
			t.Errorf("%s: verifies with a From field added", c.from)
		}
	}
}

func TestZoneLineAndPublishedKey(t *testing.T) {
	k, _, err := GenerateKey("rsa", 2048)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := TXTRecord(k.Public())
	line := ZoneLine(RecordName("mail", "bbs.test."), rec)
	if !strings.HasPrefix(line, "mail._domainkey.bbs.test. IN TXT ( \"v=DKIM1; k=rsa; p=") {
		t.Errorf("zone line %q", line)
	}
	for _, part := range strings.Split(line, `"`) {
		if len(part) > 255 {
			t.Errorf("string of %d octets in %q", len(part), line)
		}
	}
	id, _ := KeyID(k.Public())
	spaced := strings.Replace(rec, "p=", "p = ", 1) + "; t=y"
	if got, err := PublishedKey(spaced); err != nil || got != id {
		t.Errorf("PublishedKey(%q) = %q, %v; want %q", spaced, got, err, id)
	}
	if _, err := PublishedKey("v=DKIM1; p="); err == nil {
		t.Error("a revoked record gave a key")
	}
	if _, _, err := GenerateKey("rsa", 1024); !errors.Is(err, ErrWeakKey) {
		t.Errorf("1024-bit keygen: %v, want ErrWeakKey", err)
	}
}

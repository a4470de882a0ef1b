package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// serverTLS is the TLS policy of every TLS entry point (STARTTLS on 25 and
// 587, 465, STLS on 110, 995): TLS 1.2 and 1.3 only, and with TLS 1.2 only
// forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305, as
// in Mozilla's "intermediate" profile); CBC, RSA key exchange and 3DES are
// gone. TLS 1.3 suites are all AEAD and Go does not let them be chosen.
// Renegotiation needs no setting: Go's server never renegotiates and
// refuses a client's new ClientHello on an established session.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// loadOrCreateCert returns the server certificate from certFile/keyFile
// (PEM). When neither file exists it creates a self-signed pair for the
// given host names first, so STARTTLS, 465 and 995 work out of the box;
// a sysop replaces the files with a real certificate and restarts (or
// recycles). created reports whether the pair was generated.
func loadOrCreateCert(certFile, keyFile string, hosts []string) (cert tls.Certificate, created bool, err error) {
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, false, fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
		}
		return cert, false, nil
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		if err := writeSelfSigned(certFile, keyFile, hosts); err != nil {
			return cert, false, err
		}
		cert, err = tls.LoadX509KeyPair(certFile, keyFile)
		return cert, true, err
	case certErr == nil:
		return cert, false, fmt.Errorf("%s exists but %s does not: provide both or neither", certFile, keyFile)
	case keyErr == nil:
		return cert, false, fmt.Errorf("%s exists but %s does not: provide both or neither", keyFile, certFile)
	default:
		return cert, false, fmt.Errorf("checking %s: %w", certFile, errors.Join(certErr, keyErr))
	}
}

// writeSelfSigned writes an RSA pair: every client, old ones included,
// can use an RSA certificate, where ECDSA leaves out clients from before
// its time (and the suites of serverTLS include ECDHE-RSA for them).
func writeSelfSigned(certFile, keyFile string, hosts []string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	cn := "localhost"
	if len(hosts) > 0 && hosts[0] != "" {
		cn = hosts[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"bbsmail self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, h := range append(hosts, "localhost", "127.0.0.1", "::1") {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	// The key first, owner-only, created exclusively: never overwrite a key.
	if err := writeExclusive(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeExclusive(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeExclusive(name string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Names of the pair bbsmail generates for itself when the sysop's
// ctrl/ssl.cert cannot be used: it never overwrites the sysop's files.
const (
	ownCertName = "bbsmail.cert"
	ownKeyName  = "bbsmail.key"
)

// certProblem explains why the sysop's ssl.cert/ssl.key could not be used,
// in terms the sysop can act on: which file, the format bbsmail reads and
// how to get it. Synchronet's own ssl.cert is a cryptlib keyset (PKCS #15),
// which no PEM reader understands.
func certProblem(certFile, keyFile string, err error) string {
	const want = "bbsmail reads a PEM certificate chain from %s and its PEM private key from %s; " +
		"put your certificate authority's PEM files there (Let's Encrypt: fullchain.pem and privkey.pem) and recycle"
	how := fmt.Sprintf(want, filepath.Base(certFile), filepath.Base(keyFile))
	if head, rerr := readHead(certFile, 64); rerr == nil && len(head) > 0 && !bytesHasPEM(head) {
		return fmt.Sprintf("%s is not PEM (Synchronet writes a cryptlib keyset there, which bbsmail cannot read): %s", certFile, how)
	}
	return fmt.Sprintf("%v: %s", err, how)
}

func readHead(name string, n int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := f.Read(buf)
	if k > 0 {
		err = nil
	}
	return buf[:k], err
}

// bytesHasPEM reports whether the start of a file looks like PEM text.
func bytesHasPEM(b []byte) bool {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return len(b) >= 5 && string(b[:5]) == "-----"
}

package mailauth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// GenerateKey makes a new signing key, "rsa" (of bits bits, 2048 when 0)
// or "ed25519", and returns it with its PKCS#8 PEM encoding.
func GenerateKey(typ string, bits int) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	switch typ {
	case "", "rsa":
		if bits == 0 {
			bits = MinRSABits
		}
		if bits < MinRSABits {
			return nil, nil, fmt.Errorf("%d bits: %w", bits, ErrWeakKey)
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, nil, err
		}
		key = k
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		key = k
	default:
		return nil, nil, fmt.Errorf("unknown key type %q (rsa or ed25519)", typ)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

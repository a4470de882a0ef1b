package smtpd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
)

func checkSysop(login, password string) error {
	if login == "sysop" && password == "Secret1" {
		return nil
	}
	return fmt.Errorf("%w: no", errAuthFailed)
}

func TestLoginServer(t *testing.T) {
	type step struct {
		resp      []byte
		challenge string
		done      bool
		err       error
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"prompts", []step{{nil, "Username:", false, nil}, {[]byte("sysop"), "Password:", false, nil}, {[]byte("Secret1"), "", true, nil}}},
		{"initial response is the user", []step{{[]byte("sysop"), "Password:", false, nil}, {[]byte("Secret1"), "", true, nil}}},
		{"wrong password", []step{{nil, "Username:", false, nil}, {[]byte("sysop"), "Password:", false, nil}, {[]byte("x"), "", true, errAuthFailed}}},
		{"empty user", []step{{nil, "Username:", false, nil}, {[]byte{}, "", false, errBadArgument}}},
		{"control character in user", []step{{[]byte("sy\x01sop"), "", false, errBadArgument}}},
		{"empty password", []step{{[]byte("sysop"), "Password:", false, nil}, {[]byte{}, "", false, errBadArgument}}},
		{"after the end", []step{{[]byte("sysop"), "Password:", false, nil}, {[]byte("Secret1"), "", true, nil}, {[]byte("more"), "", false, sasl.ErrUnexpectedClientResponse}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newLoginServer(checkSysop)
			for i, st := range c.steps {
				ch, done, err := srv.Next(st.resp)
				if string(ch) != st.challenge || done != st.done || !errors.Is(err, st.err) {
					t.Fatalf("step %d: got %q %v %v, want %q %v %v", i, ch, done, err, st.challenge, st.done, st.err)
				}
			}
		})
	}
}

func TestCramServer(t *testing.T) {
	secret := func(login, _ string) (string, error) {
		if login == "sysop" {
			return "Secret1", nil
		}
		return "", fmt.Errorf("%w: unknown", errAuthFailed)
	}
	digest := func(key, challenge string) string { return fmt.Sprintf("%x", cramDigest(key, challenge)) }
	cases := []struct {
		name string
		resp func(challenge string) string
		err  error
	}{
		{"stored secret", func(ch string) string { return "sysop " + digest("Secret1", ch) }, nil},
		{"lower-cased secret", func(ch string) string { return "sysop " + digest("secret1", ch) }, nil},
		{"upper-case hex", func(ch string) string { return "sysop " + strings.ToUpper(digest("Secret1", ch)) }, nil},
		{"wrong secret", func(ch string) string { return "sysop " + digest("SECRET1", ch) }, errAuthFailed},
		{"unknown user", func(ch string) string { return "nobody " + digest("Secret1", ch) }, errAuthFailed},
		{"no digest", func(string) string { return "sysop" }, errBadArgument},
		{"bad hex", func(string) string { return "sysop zz" }, errBadArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newCramServer("bbs.example", secret)
			ch, done, err := srv.Next(nil)
			if err != nil || done || !strings.HasSuffix(string(ch), "@bbs.example>") {
				t.Fatalf("challenge %q %v %v", ch, done, err)
			}
			_, _, err = srv.Next([]byte(c.resp(string(ch))))
			if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.err)
			}
		})
	}
	if _, _, err := newCramServer("h", secret).Next([]byte("ir")); !errors.Is(err, errBadArgument) {
		t.Fatalf("initial response accepted: %v", err)
	}
	a, _, _ := newCramServer("h", secret).Next(nil)
	b, _, _ := newCramServer("h", secret).Next(nil)
	if string(a) == string(b) {
		t.Fatal("two challenges are equal")
	}
}

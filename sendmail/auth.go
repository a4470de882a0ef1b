package sendmail

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// saslClient returns the client for the configured relay mechanism, or nil
// for AuthNone.
func saslClient(mech, user, pass string) (sasl.Client, error) {
	switch mech {
	case AuthNone:
		return nil, nil
	case AuthPlain:
		return sasl.NewPlainClient("", user, pass), nil
	case AuthLogin:
		return &loginClient{user: user, pass: pass}, nil
	case AuthCRAMMD5:
		return &cramMD5Client{user: user, pass: pass}, nil
	}
	return nil, fmt.Errorf("unknown relay AUTH mechanism %q", mech)
}

// loginClient speaks the obsolete but common LOGIN mechanism. Unlike
// go-sasl's client it sends no initial response and answers each prompt
// by what it asks for, because relays word and case their prompts
// differently ("Username:", "User Name", "Password:", "password").
type loginClient struct {
	user, pass string
	step       int
}

func (c *loginClient) Start() (string, []byte, error) { return "LOGIN", nil, nil }

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	p := strings.ToLower(string(challenge))
	switch {
	case c.step > 2:
		return nil, sasl.ErrUnexpectedServerChallenge
	case strings.HasPrefix(p, "user"):
		return []byte(c.user), nil
	case strings.HasPrefix(p, "pass"):
		return []byte(c.pass), nil
	case c.step == 1:
		return []byte(c.user), nil
	}
	return []byte(c.pass), nil
}

// cramMD5Client implements CRAM-MD5 (RFC 2195): the answer is the user name
// and the hex HMAC-MD5 of the server's challenge keyed with the password.
type cramMD5Client struct {
	user, pass string
}

func (c *cramMD5Client) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5Client) Next(challenge []byte) ([]byte, error) {
	m := hmac.New(md5.New, []byte(c.pass))
	m.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(m.Sum(nil))), nil
}

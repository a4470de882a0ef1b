package smtpd

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/bbsmail/bbsmail/envelope"
)

// SASL mechanism names (RFC 4616, draft-murchison-sasl-login, RFC 2195).
const (
	mechPlain   = "PLAIN"
	mechLogin   = "LOGIN"
	mechCramMD5 = "CRAM-MD5"
)

var (
	// errAuthFailed marks wrong credentials: 535 and disconnect.
	errAuthFailed = errors.New("authentication failed")
	// errBadArgument marks a malformed response: 501, the session goes on.
	errBadArgument = errors.New("bad argument")
)

// checkFunc checks a login and password; checkSecretFunc returns a user's
// CRAM-MD5 secret, given the client's digest (for the failed-login
// tracker, which tells repeats apart).
type (
	checkFunc       func(login, password string) error
	checkSecretFunc func(login, digest string) (string, error)
)

// loginServer is the server side of the LOGIN mechanism: prompt for the
// user name, then the password. An initial response is the user name.
type loginServer struct {
	step  int
	user  string
	check checkFunc
}

func newLoginServer(check checkFunc) sasl.Server { return &loginServer{check: check} }

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		if len(resp) == 0 || bytes.IndexFunc(resp, isCtl) >= 0 {
			return nil, false, errBadArgument
		}
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		if len(resp) == 0 {
			return nil, false, errBadArgument
		}
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

// cramServer is the server side of CRAM-MD5 (RFC 2195). The client answers
// the challenge with "user hexdigest", the digest being HMAC-MD5 of the
// challenge keyed with the user's password. Synchronet keys it with the
// lower-cased password (its passwords are case-insensitive), so a digest
// made either way is accepted.
type cramServer struct {
	challenge string
	step      int
	secret    checkSecretFunc
}

func newCramServer(host string, secret checkSecretFunc) sasl.Server {
	c := fmt.Sprintf("<%s.%d@%s>", randomHex(8), time.Now().UnixNano(), host)
	return &cramServer{challenge: c, secret: secret}
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	switch c.step {
	case 0:
		c.step = 1
		if len(resp) > 0 { // CRAM-MD5 has no initial response
			return nil, false, errBadArgument
		}
		return []byte(c.challenge), false, nil
	case 1:
		c.step = 2
		i := bytes.LastIndexByte(resp, ' ')
		if i <= 0 || i == len(resp)-1 || bytes.IndexFunc(resp, isCtl) >= 0 {
			return nil, false, errBadArgument
		}
		user, hexDigest := string(resp[:i]), strings.ToLower(string(resp[i+1:]))
		got, err := hex.DecodeString(hexDigest)
		if err != nil {
			return nil, false, errBadArgument
		}
		secret, err := c.secret(user, hexDigest)
		if err != nil {
			return nil, true, err
		}
		if !hmac.Equal(got, cramDigest(secret, c.challenge)) &&
			!hmac.Equal(got, cramDigest(strings.ToLower(secret), c.challenge)) {
			return nil, true, fmt.Errorf("%w: wrong digest", errAuthFailed)
		}
		return nil, true, nil
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

func cramDigest(secret, challenge string) []byte {
	m := hmac.New(md5.New, []byte(secret))
	m.Write([]byte(challenge))
	return m.Sum(nil)
}

// authMechanisms lists the mechanisms offered now. Port 25 keeps PLAIN and
// LOGIN, which send the password in the clear, for TLS sessions and local
// clients; CRAM-MD5 never exposes it.
func (s *session) authMechanisms() []string {
	if s.plainAuthAllowed() {
		return []string{mechPlain, mechLogin, mechCramMD5}
	}
	return []string{mechCramMD5}
}

func (s *session) plainAuthAllowed() bool {
	return s.tls || s.loopback
}

// authCommand runs AUTH (RFC 4954).
func (s *session) authCommand(arg string) error {
	mech, ir, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	switch {
	case s.deps.Auth == nil:
		return replyNotImplemented
	case s.auth != nil || s.tx.active:
		return replyAuthSequence
	case mech == "":
		return syntaxReply("AUTH mechanism [initial-response]")
	}
	srv := s.saslServer(mech)
	s.authTry = authAttempt{mech: mech}
	if srv == nil {
		if (mech == mechPlain || mech == mechLogin) && !s.plainAuthAllowed() {
			return replyAuthPlainTLS
		}
		return replyAuthMech
	}
	var resp []byte
	if ir = strings.TrimSpace(ir); ir == "=" {
		resp = []byte{}
	} else if ir != "" {
		var err error
		if resp, err = base64.StdEncoding.DecodeString(ir); err != nil {
			return replyBadBase64
		}
	}
	return s.runSASL(srv, resp)
}

// runSASL drives a SASL exchange until success, failure or cancel, and
// returns its final reply; the 334 challenges go out on the way.
func (s *session) runSASL(srv sasl.Server, resp []byte) error {
	// Whatever happens, the password does not outlive the exchange, nor
	// does the hold on the address's password check.
	defer s.endAttempt()
	for {
		challenge, done, err := srv.Next(resp)
		if err != nil {
			return s.authFailed(err)
		}
		if done {
			s.observeAuth(true)
			s.loginSucceeded()
			s.srv.loggedIn(s)
			s.log.Info(fmt.Sprintf("SMTP %s [%s] %s authenticated as %s (#%d)", s.host, s.ip, s.authLogin, s.auth.Alias, s.auth.User))
			return replyAuthOK
		}
		s.send(replyChallenge(base64.StdEncoding.EncodeToString(challenge)))
		s.hideInput = true // the answer carries credentials: no spy log shows it
		line, err := s.readLine(maxAuthLine)
		s.hideInput = false
		switch {
		case errors.Is(err, errLineTooLong):
			return replyAuthTooLong
		case err != nil:
			return s.readFailed(err)
		case string(line) == "*":
			return replyAuthCancelled
		}
		if resp, err = base64.StdEncoding.DecodeString(string(line)); err != nil {
			return replyBadBase64
		}
	}
}

// authFailed answers an AUTH that did not succeed. Wrong credentials are
// logged (never the password), reported to the failed-login tracker,
// delayed, answered with 535 and end the session, like Synchronet.
func (s *session) authFailed(err error) error {
	s.auth = nil
	var r *envelope.Reply
	switch {
	case errors.As(err, &r):
		return r
	case errors.Is(err, errAuthFailed):
		s.observeAuth(false)
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] AUTH FAILURE for user '%s': %v", s.host, s.ip, s.authLogin, err))
		s.loginFailed()
		if d := s.cfg.LoginAttemptDelay; d > 0 {
			_ = s.flush()
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
			}
		}
		return replyAuthFailed
	}
	return replyAuthBadArg
}

// saslServer returns the server side of mech, or nil when it is not
// offered now.
func (s *session) saslServer(mech string) sasl.Server {
	offered := false
	for _, m := range s.authMechanisms() {
		offered = offered || m == mech
	}
	if !offered {
		return nil
	}
	switch mech {
	case mechPlain:
		return sasl.NewPlainServer(func(_, login, password string) error {
			if login == "" || password == "" {
				return errBadArgument
			}
			return s.checkPassword(login, password)
		})
	case mechLogin:
		return newLoginServer(s.checkPassword)
	}
	return newCramServer(s.cfg.HostName, s.checkSecret)
}

// checkPassword asks the Authenticator; on success the session is
// authenticated. A ban that began while the password was checked wins.
func (s *session) checkPassword(login, password string) error {
	s.authLogin = cleanArg(login)
	s.authTry.tried, s.authTry.hasPassword = password, password != ""
	ctx, cancel := context.WithTimeout(s.clientContext(), s.cfg.MaxInactivity)
	defer cancel()
	if err := s.beginCheck(ctx); err != nil {
		return err
	}
	id, err := s.deps.Auth.Authenticate(ctx, login, password)
	if err != nil {
		return authError(err)
	}
	if s.bannedNow() {
		return authError(errBanned)
	}
	s.auth = &id
	return nil
}

func (s *session) checkSecret(login, digest string) (string, error) {
	s.authLogin = cleanArg(login)
	s.authTry.tried, s.authTry.digest = digest, true
	ctx, cancel := context.WithTimeout(s.clientContext(), s.cfg.MaxInactivity)
	defer cancel()
	if err := s.beginCheck(ctx); err != nil {
		return "", err
	}
	id, secret, err := s.deps.Auth.Secret(ctx, login)
	if err != nil {
		return "", authError(err)
	}
	s.auth = &id // cleared again by authFailed if the digest is wrong
	s.authTry.hasPassword = secret != ""
	return secret, nil
}

// authError keeps a Reply from the Authenticator as it is and makes any
// other error a failed login.
func authError(err error) error {
	var r *envelope.Reply
	if errors.As(err, &r) {
		return r
	}
	return fmt.Errorf("%w: %w", errAuthFailed, err)
}

// clientContext is the session's context carrying the client's address,
// host name and protocol, which LoginRequirements may test.
func (s *session) clientContext() context.Context {
	prot := "SMTP"
	if s.tls {
		prot = "SMTPS"
	}
	return envelope.WithClient(s.ctx, envelope.Client{IP: s.ip, Host: s.clientHost(), Protocol: prot})
}

// observeAuth tells Deps.Observer how the AUTH under way ended.
func (s *session) observeAuth(ok bool) {
	if o := s.deps.Observer; o != nil {
		o.AuthResult(s.authTry.mech, ok)
	}
}
